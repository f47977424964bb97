import type { AbortOptions, BidAnswer, BidCall, Classad, Clock, LoadReport, Order, PeerRef, Transport, VmRequest } from '../src/interface/index.js'
import type { LinkModel } from './links.js'

/** a request or reply that is lost stalls its stream until the caller gives up, or as long as a libp2p dial may take */
const LOST_AFTER_MS = 10_000

/** What a node of the in-memory network answers; the same commands the libp2p edges give the actors. */
export interface MemoryHandlers {
  /** a plant: its site (calls come from its broker) or none (calls come from the shop) */
  plant?: { site?: string }
  /** a broker of this site */
  broker?: { site: string }
  shop?: boolean
  onPlantCall?: (call: BidCall, from: string) => void
  onBrokerCall?: (call: BidCall, from: string) => void
  onAnswer?: (answer: BidAnswer, from: string) => void
  onOrder?: (order: Order, from: string, signal: AbortSignal) => Promise<Classad>
  onCancel?: (requestId: string, from: string) => void
  onVmRequest?: (request: VmRequest, signal: AbortSignal) => Promise<unknown>
  /** a broker: a load report of a plant of its site */
  onLoadReport?: (report: LoadReport, from: string) => void
  /** a shop: the set of reachable bidders changed, as a gossipsub subscription change tells it */
  onBiddersChanged?: () => void
  /** one-way delay of every message to and from this node, in ms; @default the network's */
  latencyMs?: number
}

export interface MemoryNetworkInit {
  clock: Clock
  /** one-way delay of every message, in ms; @default 1 */
  latencyMs?: number
  /** per-message delays, loss and partitions; @default every message takes its node's `latencyMs` */
  links?: LinkModel
}

/**
 * A network in memory for the real actors under a virtual clock: every message takes the link's
 * latency on that clock. Senders are known by construction, as noise makes them known on libp2p.
 * Nodes that are down (`setDown`) neither receive nor answer: an answer a node had under way when
 * it went down is lost too.
 */
export class MemoryNetwork {
  private readonly nodes = new Map<string, MemoryHandlers>()
  private readonly down = new Set<string>()
  private readonly latencyMs: number
  /**
   * answers of `peersWhere` by its caller's key, with the match that made them, until a node goes
   * up or down (a new node is added where it matches): every call for bids asks for the bidders,
   * and walking ten thousand nodes per call was most of a large run
   */
  private readonly cached = new Map<string, { match: (h: MemoryHandlers) => boolean, peers: string[] }>()

  constructor (private readonly init: MemoryNetworkInit) {
    this.latencyMs = init.latencyMs ?? 1
  }

  /** joins a node; its handlers may be filled in after its actors are spawned */
  join (peer: string, handlers: MemoryHandlers): Transport {
    if (this.nodes.has(peer)) {
      this.cached.clear()
    } else {
      // a new node comes last in the walk, so it is appended where it matches: ten thousand plants
      // joining, each reporting its load at once, walked all nodes once per join before
      for (const entry of this.cached.values()) if (!this.down.has(peer) && entry.match(handlers)) entry.peers.push(peer)
    }
    this.nodes.set(peer, handlers)
    return new MemoryTransport(this, peer, handlers.plant?.site)
  }

  setDown (peer: string, down: boolean): void {
    if (down === this.down.has(peer)) return
    if (down) this.down.add(peer)
    else this.down.delete(peer)
    this.cached.clear()
    const node = this.nodes.get(peer)
    if (node?.plant === undefined && node?.broker === undefined) return
    for (const [shop, h] of this.nodes) if (h.shop === true && !this.down.has(shop)) h.onBiddersChanged?.()
  }

  isDown (peer: string): boolean { return this.down.has(peer) }

  /** whether `peer` has joined, is up and its roles match */
  isUp (peer: string, match: (h: MemoryHandlers) => boolean): boolean {
    const handlers = this.nodes.get(peer)
    return handlers !== undefined && !this.down.has(peer) && match(handlers)
  }

  private peersWhere (match: (h: MemoryHandlers) => boolean): string[] {
    return [...this.nodes.entries()].filter(([peer, h]) => !this.down.has(peer) && match(h)).map(([peer]) => peer)
  }

  /**
   * `peersWhere(match)`, remembered under `key` and kept as nodes join; `match` must say the
   * same for the same handlers (it may read only their roles, which are fixed at join). The
   * caller must not change the list, nor keep it across a join.
   */
  peersCached (key: string, match: (h: MemoryHandlers) => boolean): readonly string[] {
    let entry = this.cached.get(key)
    if (entry === undefined) {
      entry = { match, peers: this.peersWhere(match) }
      this.cached.set(key, entry)
    }
    return entry.peers
  }

  /**
   * delivers after the link's latency; a message to a node that is down is lost. With `from` and a
   * link model, the request and its reply each take a drawn delay or are lost: a lost one stalls
   * the caller until its signal aborts (at most LOST_AFTER_MS), as a stream that never answers.
   */
  async deliver<T>(to: string, options: AbortOptions, work: (handlers: MemoryHandlers) => T | Promise<T>, from?: string): Promise<T> {
    const handlers = this.nodes.get(to)
    const latencyMs = handlers?.latencyMs ?? this.latencyMs
    await this.hop(from, to, to, latencyMs, options)
    if (handlers === undefined || this.down.has(to)) throw new Error(`peer ${to} is unreachable`)
    const result = await work(handlers)
    if (this.down.has(to)) throw new Error(`peer ${to} went down before it answered`)
    await this.hop(to, from, to, latencyMs, options)
    return result
  }

  /** one message's way over `owner`'s link: the clock's own sleep when it arrives, so the common case adds no promise */
  private hop (from: string | undefined, to: string | undefined, owner: string, latencyMs: number, options: AbortOptions): Promise<void> {
    const links = this.init.links
    const delay = links === undefined || from === undefined || to === undefined ? latencyMs : links.delay(from, to, owner, latencyMs)
    return delay !== undefined ? this.init.clock.sleep(delay, options) : this.lost(to, options)
  }

  private async lost (to: string | undefined, options: AbortOptions): Promise<never> {
    await this.init.clock.sleep(LOST_AFTER_MS, options)
    throw new Error(`a message to ${to ?? 'the caller'} was lost: no answer within ${LOST_AFTER_MS} ms`)
  }

  /**
   * gossip: each subscriber gets its copy after the latency; none is waited for. No sender waits,
   * so unlike `deliver` there is no way back to wait out: that event would change nothing.
   */
  broadcast (peers: readonly string[], work: (handlers: MemoryHandlers) => void, from?: string): void {
    const links = this.init.links
    for (const peer of peers) {
      const handlers = this.nodes.get(peer)
      const latencyMs = handlers?.latencyMs ?? this.latencyMs
      const delay = links === undefined || from === undefined ? latencyMs : links.delay(from, peer, peer, latencyMs)
      if (delay === undefined) continue
      this.init.clock.sleep(delay).then(() => {
        if (handlers !== undefined && !this.down.has(peer)) work(handlers)
      }).catch(() => {})
    }
  }
}

/** who answers the shop's calls: its brokers, and the plants of sites without one */
const isBidder = (h: MemoryHandlers): boolean => (h.plant !== undefined && h.plant.site === undefined) || h.broker !== undefined

/** who takes a call on a stream of its own: a bidder, or a plant its site's broker asks to confirm */
const isCallable = (h: MemoryHandlers): boolean => h.plant !== undefined || h.broker !== undefined

class MemoryTransport implements Transport {
  /** `site`: a plant's site, whose brokers get its load reports */
  constructor (private readonly network: MemoryNetwork, private readonly peer: string, private readonly site?: string) {}

  self (): PeerRef { return { peer: this.peer, addrs: [] } }

  bidders (): string[] {
    return [...this.network.peersCached('bidders', isBidder)]
  }

  siteBidders (site: string): string[] {
    return [...this.siteBiddersCached(site)]
  }

  async plants (): Promise<string[]> {
    return [...this.network.peersCached('plants', (h) => h.plant !== undefined)]
  }

  async publishCall (call: BidCall): Promise<void> {
    this.network.broadcast(this.network.peersCached('bidders', isBidder), this.toBidder(call), this.peer)
  }

  async callBidders (peers: string[], call: BidCall): Promise<string[]> {
    // a broker calls one plant per confirmation: look the few callees up, not a set of every node
    const up = peers.filter((peer) => this.network.isUp(peer, isCallable))
    this.network.broadcast(up, this.toBidder(call), this.peer)
    return peers.filter((peer) => !up.includes(peer))
  }

  /** a call as a bidder takes it: a broker for its site, a plant for itself */
  private toBidder (call: BidCall): (h: MemoryHandlers) => void {
    return (h) => {
      if (h.broker !== undefined) h.onBrokerCall?.(call, this.peer)
      else h.onPlantCall?.(call, this.peer)
    }
  }

  async publishSiteCall (site: string, call: BidCall): Promise<void> {
    this.network.broadcast(this.siteBiddersCached(site), (h) => h.onPlantCall?.(call, this.peer), this.peer)
  }

  async reportLoad (report: LoadReport): Promise<void> {
    const site = this.site
    if (site === undefined) throw new Error(`${this.peer} has no site to report its load to`)
    // a plant that is down has crashed: its heartbeat stops, which is how its broker learns it is gone
    if (this.network.isDown(this.peer)) return
    this.network.broadcast(this.network.peersCached(`brokers:${site}`, (h) => h.broker?.site === site), (h) => h.onLoadReport?.(report, this.peer), this.peer)
  }

  private siteBiddersCached (site: string): readonly string[] {
    return this.network.peersCached(`site:${site}`, (h) => h.plant?.site === site)
  }

  async answer (to: PeerRef, answer: BidAnswer, options: AbortOptions = {}): Promise<void> {
    await this.network.deliver(to.peer, options, (h) => h.onAnswer?.(answer, this.peer), this.peer)
  }

  async order (plant: PeerRef, order: Order, options: AbortOptions = {}): Promise<Classad> {
    const signal = options.signal ?? new AbortController().signal
    return await this.network.deliver(plant.peer, options, async (h) => {
      if (h.onOrder === undefined) throw new Error(`peer ${plant.peer} takes no orders`)
      return await h.onOrder(order, this.peer, signal)
    }, this.peer)
  }

  async cancel (plant: PeerRef, requestId: string, options: AbortOptions = {}): Promise<void> {
    await this.network.deliver(plant.peer, options, (h) => h.onCancel?.(requestId, this.peer), this.peer)
  }

  async vmRequest (plant: string, request: VmRequest, options: AbortOptions = {}): Promise<unknown> {
    const signal = options.signal ?? new AbortController().signal
    return await this.network.deliver(plant, options, async (h) => {
      if (h.onVmRequest === undefined) throw new Error(`peer ${plant} holds no VMs`)
      return await h.onVmRequest(request, signal)
    }, this.peer)
  }
}
