import { lpStream } from '@libp2p/utils'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { logger } from '@libp2p/logger'
import type { VmplantLibp2p } from '../../node.js'
import { decodeJson, encodeJson } from '../../codec.js'
import { VnetRefusedError } from './errors.js'
import type { TapPort } from './tap.js'
import { pump } from './pump.js'
import { MAX_OPEN_BYTES, VNET_PROTOCOL, answerSchema, type VnetOpen } from './wire.js'
import { errorMessage } from '../../../interface/index.js'

/** What a tunnel reports as it goes: up, down (and retrying), or refused for good. */
export type TunnelEvent =
  | { type: 'up', plant: string, connects: number }
  | { type: 'down', plant: string, reason: string, retryInMs: number }
  | { type: 'refused', plant: string, reason: string }

export interface TunnelInit {
  /** the plant: its peer id (found through the DHT), or its addresses */
  plant: PeerId | Multiaddr[]
  domain: string
  /** the domain credential, sent as it is; the plant's `authorize` checks it */
  credential: unknown
  /** first wait before a reconnect, doubled on each failure; @default 250 */
  initialBackoffMs?: number
  /** @default 10000 */
  maxBackoffMs?: number
  /** finding and dialling the plant, and its answer; @default 10000 */
  dialTimeoutMs?: number
  onEvent?: (event: TunnelEvent) => void
}

export const TUNNEL_DEFAULTS = { initialBackoffMs: 250, maxBackoffMs: 10_000, dialTimeoutMs: 10_000 } as const

const log = logger('vmplant:vnet:tunnel')

/**
 * The client's side of one tunnel to one plant: joins `port` to a stream to the plant and makes
 * a new stream, with backoff, whenever one ends. The tap (and so every address behind it) stays
 * as it is; only the stream is made again. A refusal ends the tunnel: retrying cannot fix a
 * credential.
 */
export class VnetTunnel {
  readonly plant: string
  /** streams made so far */
  connects = 0
  private readonly init: Required<Omit<TunnelInit, 'onEvent'>> & Pick<TunnelInit, 'onEvent'>
  private readonly stopper = new AbortController()
  private running?: Promise<void>
  private portGone = false

  constructor (private readonly libp2p: VmplantLibp2p, private readonly port: TapPort, init: TunnelInit) {
    this.init = { ...TUNNEL_DEFAULTS, ...init }
    this.plant = Array.isArray(init.plant) ? init.plant.map((a) => a.toString()).join(',') : init.plant.toString()
    port.closed.then(() => { this.portGone = true }, () => {})
  }

  /** starts the tunnel; resolves at once, the tunnel runs until `stop()` or a refusal */
  start (): void {
    this.running ??= this.loop()
  }

  /** resolves when the tunnel has ended (after `stop()`, a refusal or the port's end) */
  async ended (): Promise<void> {
    await this.running
  }

  async stop (): Promise<void> {
    this.stopper.abort(new Error('tunnel stopped'))
    await this.running
  }

  private async loop (): Promise<void> {
    const signal = this.stopper.signal
    let backoff = this.init.initialBackoffMs
    while (!signal.aborted) {
      let reason: string
      try {
        const ended = await this.once(signal)
        reason = ended?.message ?? 'the plant closed the stream'
        backoff = this.init.initialBackoffMs
      } catch (err: unknown) {
        if (signal.aborted) return
        if (err instanceof VnetRefusedError) {
          log('plant %s refused the tunnel: %s', this.plant, err.message)
          this.init.onEvent?.({ type: 'refused', plant: this.plant, reason: err.message })
          return
        }
        reason = errorMessage(err)
      }
      if (signal.aborted) return
      if (this.portGone) {
        this.init.onEvent?.({ type: 'down', plant: this.plant, reason: `tap ${this.port.name} is gone: ${reason}`, retryInMs: -1 })
        return
      }
      this.init.onEvent?.({ type: 'down', plant: this.plant, reason, retryInMs: backoff })
      log('tunnel to %s down (%s); again in %d ms', this.plant, reason, backoff)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff)
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
      })
      backoff = Math.min(backoff * 2, this.init.maxBackoffMs)
    }
  }

  /** one stream, from the dial to its end; resolves with why it ended */
  private async once (signal: AbortSignal): Promise<Error | undefined> {
    const dialSignal = AbortSignal.any([signal, AbortSignal.timeout(this.init.dialTimeoutMs)])
    const stream = await this.libp2p.dialProtocol(this.init.plant, VNET_PROTOCOL, { signal: dialSignal })
    const onStop = (): void => { stream.abort(new Error('tunnel stopped')) }
    signal.addEventListener('abort', onStop, { once: true })
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_OPEN_BYTES })
      const open: VnetOpen = { type: 'vnet.open', domain: this.init.domain, credential: this.init.credential }
      await lp.write(encodeJson(open), { signal: dialSignal })
      const answer = decodeJson((await lp.read({ signal: dialSignal })).subarray(), answerSchema, MAX_OPEN_BYTES, `${VNET_PROTOCOL} answer`)
      if (!answer.ok) throw new VnetRefusedError(`plant ${this.plant} refused: ${answer.error.message}`)
      this.connects++
      const { done } = pump(this.port, lp.unwrap())
      this.init.onEvent?.({ type: 'up', plant: this.plant, connects: this.connects })
      log('tunnel to %s up on tap %s', this.plant, this.port.name)
      return await done
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    } finally {
      signal.removeEventListener('abort', onStop)
    }
  }
}
