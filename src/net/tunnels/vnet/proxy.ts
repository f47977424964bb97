import { createHash } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { logger } from '@libp2p/logger'
import { errorMessage, type AbortOptions } from '../../../interface/index.js'
import type { VmplantLibp2p } from '../../node.js'
import { checkBridge, openTap, type TapPort } from './tap.js'
import { VnetTunnel, type TunnelEvent } from './client.js'

/** Which plants host the domain's VMs now, as the shop says; `unreachable` plants are kept, not dropped. */
export interface DomainPlants { plants: string[], unreachable: string[] }

export interface VnetProxyComponents {
  libp2p: VmplantLibp2p
  /** asks the shop which plants run the domain's VMs */
  plantsHosting: (options?: AbortOptions) => Promise<DomainPlants>
}

export interface VnetProxyInit {
  domain: string
  credential: unknown
  /**
   * Where frames go on the client's site: one tap per plant on this bridge, or all plants on one
   * tap (a hub: every plant then sees every frame from the tap).
   */
  attach: { bridge: string } | { tap: string }
  /** how often to ask the shop for the domain's plants; @default 5000 */
  pollMs?: number
  /** how long one ask may take; @default 30000 */
  pollTimeoutMs?: number
  /**
   * A plant that refused the tunnel is asked again after this, doubled on each refusal up to 8 s,
   * while the shop still lists it: the shop lists a plant only for VMs the credential reaches, so
   * a refusal there is passing (the domain's first VM, whose bridge is not made yet while its
   * golden image is built). The cap stays well under a DHCP lease timeout, for that VM's sake;
   * @default 1000
   */
  refusedRetryMs?: number
  /** @default 1500 */
  mtu?: number
  onEvent?: (event: ProxyEvent) => void
}

export type ProxyEvent = TunnelEvent
  | { type: 'follow', plant: string, tap: string }
  | { type: 'unfollow', plant: string }
  | { type: 'poll-failed', reason: string }

export const PROXY_DEFAULTS = { pollMs: 5000, pollTimeoutMs: 30_000, mtu: 1500, refusedRetryMs: 1000 } as const

const MAX_REFUSED_RETRY_MS = 8000

const log = logger('vmplant:vnet:proxy')

interface Followed { tunnel: VnetTunnel, port: TapPort, ownPort: boolean, ended: boolean }

/** The client side's tap for one plant: stable, so that a restarted proxy (same key) finds the same name. */
export function clientTapName (client: string, domain: string, plant: string): string {
  return `vnc${createHash('sha256').update(`${client}\n${domain}\n${plant}`).digest('hex').slice(0, 11)}`
}

/**
 * `vmplant vnet proxy`: asks the shop, every `pollMs`, which plants host the domain's VMs, and
 * keeps one tunnel to each of them; a plant that no longer hosts any loses its tunnel and tap.
 */
export class VnetProxy {
  private readonly init: Required<Omit<VnetProxyInit, 'onEvent'>> & Pick<VnetProxyInit, 'onEvent'>
  private readonly followed = new Map<string, Followed>()
  /** plants that refused the tunnel: when to ask again, and how often they refused in a row */
  private readonly refused = new Map<string, { until: number, times: number }>()
  private shared?: TapPort
  private timer?: NodeJS.Timeout
  private stopper?: AbortController
  private polling?: Promise<void>

  constructor (private readonly components: VnetProxyComponents, init: VnetProxyInit) {
    this.init = { ...PROXY_DEFAULTS, ...init }
  }

  /** the plants with a live tunnel object now */
  plants (): string[] {
    return [...this.followed.keys()]
  }

  /** opens the shared tap (in tap mode) and makes the first poll; later polls follow on a timer */
  async start (options: AbortOptions = {}): Promise<void> {
    if (this.stopper !== undefined) return
    this.stopper = new AbortController()
    try {
      if ('tap' in this.init.attach) this.shared = await openTap({ name: this.init.attach.tap, mtu: this.init.mtu }, options)
      else await checkBridge(this.init.attach.bridge, options)
    } catch (err) {
      this.stopper = undefined
      throw err
    }
    await this.poll()
  }

  async stop (): Promise<void> {
    if (this.stopper === undefined) return
    this.stopper.abort(new Error('proxy stopping'))
    clearTimeout(this.timer)
    await this.polling
    await Promise.all([...this.followed.keys()].map(async (plant) => { await this.unfollow(plant) }))
    await this.shared?.close()
    this.shared = undefined
    this.stopper = undefined
  }

  private schedule (): void {
    const signal = this.stopper?.signal
    if (signal === undefined || signal.aborted) return
    this.timer = setTimeout(() => { this.poll().catch((err) => { log.error('poll failed: %e', err) }) }, this.init.pollMs)
  }

  private async poll (): Promise<void> {
    const signal = this.stopper?.signal
    if (signal === undefined || signal.aborted) return
    let done!: () => void
    this.polling = new Promise((resolve) => { done = resolve })
    try {
      const hosting = await this.components.plantsHosting({ signal: AbortSignal.any([signal, AbortSignal.timeout(this.init.pollTimeoutMs)]) })
      if (signal.aborted) return
      const keep = new Set([...hosting.plants, ...hosting.unreachable])
      for (const plant of [...this.followed.keys()]) {
        if (!keep.has(plant) || this.followed.get(plant)?.ended === true) await this.unfollow(plant)
      }
      for (const plant of this.refused.keys()) if (!keep.has(plant)) this.refused.delete(plant)
      for (const plant of hosting.plants) {
        if (!this.followed.has(plant) && (this.refused.get(plant)?.until ?? 0) <= Date.now() && !signal.aborted) await this.follow(plant)
      }
    } catch (err: unknown) {
      if (!signal.aborted) this.init.onEvent?.({ type: 'poll-failed', reason: errorMessage(err) })
    } finally {
      done()
      this.schedule()
    }
  }

  private async follow (plant: string): Promise<void> {
    let port = this.shared
    const ownPort = port === undefined
    if (port === undefined) {
      const bridge = (this.init.attach as { bridge: string }).bridge
      port = await openTap({ name: clientTapName(this.components.libp2p.peerId.toString(), this.init.domain, plant), bridge, mtu: this.init.mtu })
    }
    const followed: Followed = {
      port,
      ownPort,
      ended: false,
      tunnel: new VnetTunnel(this.components.libp2p, port, {
        plant: peerIdFromString(plant),
        domain: this.init.domain,
        credential: this.init.credential,
        onEvent: (event) => {
          if (event.type === 'refused') {
            const times = (this.refused.get(plant)?.times ?? 0) + 1
            this.refused.set(plant, { times, until: Date.now() + Math.min(this.init.refusedRetryMs * 2 ** (times - 1), MAX_REFUSED_RETRY_MS) })
          }
          if (event.type === 'up') this.refused.delete(plant)
          this.init.onEvent?.(event)
        }
      })
    }
    this.followed.set(plant, followed)
    followed.tunnel.start()
    followed.tunnel.ended().finally(() => { followed.ended = true }).catch(() => {})
    this.init.onEvent?.({ type: 'follow', plant, tap: port.name })
  }

  private async unfollow (plant: string): Promise<void> {
    const followed = this.followed.get(plant)
    if (followed === undefined) return
    this.followed.delete(plant)
    await followed.tunnel.stop()
    if (followed.ownPort) await followed.port.close()
    this.init.onEvent?.({ type: 'unfollow', plant })
  }
}
