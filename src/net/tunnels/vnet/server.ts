import { createHash } from 'node:crypto'
import { lpStream } from '@libp2p/utils'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { errorMessage, type DomainRef } from '../../../interface/index.js'
import type { VmplantLibp2p } from '../../node.js'
import { decodeJson, encodeJson } from '../../codec.js'
import { VnetRefusedError } from './errors.js'
import { readFrame } from '../../rpc.js'
import { enslaveTap, openTap, type TapPort } from './tap.js'
import { pump, type PumpStats } from './pump.js'
import { MAX_OPEN_BYTES, VNET_PROTOCOL, openSchema, type VnetAnswer } from './wire.js'

export interface VnetServerComponents {
  libp2p: VmplantLibp2p
  /**
   * Checks the domain credential the client sent, for the noise-authenticated `remotePeer`, and
   * returns the domain it proves; throws (with a message naming why) to refuse the tunnel.
   */
  authorize: (credential: unknown, remotePeer: PeerId) => Promise<DomainRef>
  /** the bridge of the domain's host-only network on this plant, or undefined when it has none */
  bridgeFor: (domain: DomainRef) => Promise<string | undefined> | string | undefined
}

export interface VnetServerInit {
  /** tunnels open at once; @default 64 */
  maxTunnels?: number
  /** how long a client may take to send its opening message; @default 10000 */
  openTimeoutMs?: number
  /** a tap stays this long after its stream ended, so that a reconnect finds it; @default 60000 */
  lingerMs?: number
  /** the taps' MTU; @default 1500 */
  mtu?: number
  logPrefix?: string
}

export const VNET_SERVER_DEFAULTS = { maxTunnels: 64, openTimeoutMs: 10_000, lingerMs: 60_000, mtu: 1500 } as const

interface Attachment {
  port: TapPort
  stream?: Stream
  linger?: NodeJS.Timeout
}

/** The tap of one (domain, client) pair on this plant: the same after a reconnect, another on another plant of the host. */
export function serverTapName (plant: string, domain: DomainRef, client: string): string {
  return `vnp${createHash('sha256').update(`${plant}\n${domain.name}\n${domain.key}\n${client}`).digest('hex').slice(0, 11)}`
}

/** The plant's side of `/vmplant/vnet/1.0.0`: authorizes, then joins the stream to a tap on the domain's bridge. */
export class VnetServer {
  private readonly init: Required<Omit<VnetServerInit, 'logPrefix'>>
  private readonly attachments = new Map<string, Attachment>()
  private readonly opening = new Map<string, Promise<Attachment>>()
  private readonly log
  private started = false
  /** tunnels refused since start, newest last (at most 100): who, and why */
  readonly refused: Array<{ peer: string, reason: string }> = []

  constructor (private readonly components: VnetServerComponents, init: VnetServerInit = {}) {
    this.init = { ...VNET_SERVER_DEFAULTS, ...init }
    this.log = logger(`${init.logPrefix ?? 'vmplant'}:vnet`)
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    await this.components.libp2p.handle(VNET_PROTOCOL, (stream, connection) => { this.serve(stream, connection).catch((err) => { this.log.error('tunnel from %p failed: %e', connection.remotePeer, err) }) }, { maxInboundStreams: this.init.maxTunnels, runOnLimitedConnection: false })
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.components.libp2p.unhandle(VNET_PROTOCOL).catch(() => {})
    await Promise.allSettled(this.opening.values())
    const attachments = [...this.attachments.values()]
    this.attachments.clear()
    for (const a of attachments) {
      clearTimeout(a.linger)
      a.stream?.abort(new Error('plant stopping'))
    }
    await Promise.all(attachments.map(async (a) => { await a.port.close() }))
  }

  /** the taps this server holds now, for operators and tests */
  taps (): string[] {
    return [...this.attachments.values()].map((a) => a.port.name)
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const lp = lpStream(stream, { maxDataLength: MAX_OPEN_BYTES })
    const signal = AbortSignal.timeout(this.init.openTimeoutMs)
    let attachment: Attachment
    let key: string
    try {
      const open = decodeJson((await readFrame(lp, `${VNET_PROTOCOL} opening`, MAX_OPEN_BYTES, { signal })).subarray(), openSchema, MAX_OPEN_BYTES, `${VNET_PROTOCOL} opening`)
      let domain: DomainRef
      try {
        domain = await this.components.authorize(open.credential, connection.remotePeer)
      } catch (err: unknown) {
        throw new VnetRefusedError(`tunnel for domain ${open.domain} refused: ${errorMessage(err)}`, { cause: err })
      }
      if (domain.name !== open.domain) throw new VnetRefusedError(`tunnel for domain ${open.domain} refused: the credential is for domain ${domain.name}`)
      const bridge = await this.components.bridgeFor(domain)
      if (bridge === undefined) throw new VnetRefusedError(`this plant has no network for domain ${open.domain}: it runs none of the domain's VMs`)
      key = `${domain.name}\n${domain.key}\n${peer}`
      try {
        attachment = await this.attach(key, serverTapName(this.components.libp2p.peerId.toString(), domain, peer), bridge)
        // a lingering tap may still be on a bridge that was removed and made again since
        await enslaveTap(attachment.port.name, bridge, { signal })
      } catch (err: unknown) {
        throw new VnetRefusedError(`this plant cannot attach a tunnel to domain ${open.domain}'s network: ${errorMessage(err)}`, { cause: err })
      }
    } catch (err: unknown) {
      const reason = errorMessage(err)
      this.log('refused a tunnel from %s: %s', peer, reason)
      this.refused.push({ peer, reason })
      if (this.refused.length > 100) this.refused.shift()
      const answer: VnetAnswer = { ok: false, error: { code: err instanceof Error ? err.name : 'Error', message: reason.slice(0, 10_000) } }
      await lp.write(encodeJson(answer), { signal }).catch(() => {})
      await stream.close({ signal }).catch(() => { stream.abort(new Error('refused')) })
      return
    }
    // a reconnect may arrive before this side noticed the old stream died: the newer one wins
    attachment.stream?.abort(new Error('superseded by a newer stream from the same client'))
    clearTimeout(attachment.linger)
    attachment.stream = stream
    try {
      await lp.write(encodeJson({ ok: true } satisfies VnetAnswer), { signal })
    } catch (err: unknown) {
      this.ended(key, attachment, stream, err instanceof Error ? err : new Error(errorMessage(err)), { framesIn: 0, framesOut: 0, dropped: 0 })
      return
    }
    const { done, stats } = pump(attachment.port, lp.unwrap())
    this.log('tunnel from %s up on tap %s', peer, attachment.port.name)
    const reason = await done
    this.ended(key, attachment, stream, reason, stats)
  }

  private async attach (key: string, tap: string, bridge: string): Promise<Attachment> {
    const existing = this.attachments.get(key)
    if (existing !== undefined) return existing
    let opening = this.opening.get(key)
    if (opening === undefined) {
      opening = openTap({ name: tap, bridge, mtu: this.init.mtu }).then((port) => {
        const attachment: Attachment = { port }
        if (!this.started) {
          port.close().catch(() => {})
          throw new Error('plant stopping')
        }
        this.attachments.set(key, attachment)
        port.closed.then(() => { if (this.attachments.get(key) === attachment) this.attachments.delete(key) }, () => {})
        return attachment
      }).finally(() => { this.opening.delete(key) })
      this.opening.set(key, opening)
    }
    return await opening
  }

  private ended (key: string, attachment: Attachment, stream: Stream, reason: Error | undefined, stats: PumpStats): void {
    this.log('tunnel on tap %s ended (%s): %d frames in, %d out, %d dropped', attachment.port.name, reason?.message ?? 'closed', stats.framesIn, stats.framesOut, stats.dropped)
    if (attachment.stream !== stream) return
    attachment.stream = undefined
    if (!this.started) return
    attachment.linger = setTimeout(() => {
      if (this.attachments.get(key) !== attachment || attachment.stream !== undefined) return
      this.attachments.delete(key)
      attachment.port.close().catch((err) => { this.log.error('closing tap %s: %e', attachment.port.name, err) })
    }, this.init.lingerMs)
    attachment.linger.unref()
  }
}
