import type { AbortOptions, BidAnswer, BidCall, Classad, Clock, Order, PeerRef, Transport, VmRequest } from '../src/interface/index.js'

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
  /** a shop: the set of reachable bidders changed, as a gossipsub subscription change tells it */
  onBiddersChanged?: () => void
  /** one-way delay of every message to and from this node, in ms; @default the network's */
  latencyMs?: number
}

export interface MemoryNetworkInit {
  clock: Clock
  /** one-way delay of every message, in ms; @default 1 */
  latencyMs?: number
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
   * answers of `peersWhere` by its caller's key, until a node joins or goes up or down: every call
   * for bids asks for the bidders, and walking ten thousand nodes per call was most of a large run
   */
  private readonly cached = new Map<string, string[]>()

  constructor (private readonly init: MemoryNetworkInit) {
    this.latencyMs = init.latencyMs ?? 1
  }

  /** joins a node; its handlers may be filled in after its actors are spawned */
  join (peer: string, handlers: MemoryHandlers): Transport {
    this.nodes.set(peer, handlers)
    this.cached.clear()
    return new MemoryTransport(this, peer)
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

  private peersWhere (match: (h: MemoryHandlers) => boolean): string[] {
    return [...this.nodes.entries()].filter(([peer, h]) => !this.down.has(peer) && match(h)).map(([peer]) => peer)
  }

  /**
   * `peersWhere(match)`, remembered under `key` until the network changes; `match` must say the
   * same for the same handlers (it may read only their roles, which are fixed at join). The
   * caller must not change the list.
   */
  peersCached (key: string, match: (h: MemoryHandlers) => boolean): readonly string[] {
    let peers = this.cached.get(key)
    if (peers === undefined) {
      peers = this.peersWhere(match)
      this.cached.set(key, peers)
    }
    return peers
  }

  /** delivers after the link's latency; a message to a node that is down is lost */
  async deliver<T>(to: string, options: AbortOptions, work: (handlers: MemoryHandlers) => T | Promise<T>): Promise<T> {
    const handlers = this.nodes.get(to)
    const latencyMs = handlers?.latencyMs ?? this.latencyMs
    await this.init.clock.sleep(latencyMs, options)
    if (handlers === undefined || this.down.has(to)) throw new Error(`peer ${to} is unreachable`)
    const result = await work(handlers)
    if (this.down.has(to)) throw new Error(`peer ${to} went down before it answered`)
    await this.init.clock.sleep(latencyMs, options)
    return result
  }

  /**
   * gossip: each subscriber gets its copy after the latency; none is waited for. No sender waits,
   * so unlike `deliver` there is no way back to wait out: that event would change nothing.
   */
  broadcast (peers: readonly string[], work: (handlers: MemoryHandlers) => void): void {
    for (const peer of peers) {
      const handlers = this.nodes.get(peer)
      this.init.clock.sleep(handlers?.latencyMs ?? this.latencyMs).then(() => {
        if (handlers !== undefined && !this.down.has(peer)) work(handlers)
      }).catch(() => {})
    }
  }
}

/** who answers the shop's calls: its brokers, and the plants of sites without one */
const isBidder = (h: MemoryHandlers): boolean => (h.plant !== undefined && h.plant.site === undefined) || h.broker !== undefined

class MemoryTransport implements Transport {
  constructor (private readonly network: MemoryNetwork, private readonly peer: string) {}

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
    this.network.broadcast(this.network.peersCached('bidders', isBidder), this.toBidder(call))
  }

  async callBidders (peers: string[], call: BidCall): Promise<void> {
    const bidders = new Set(this.network.peersCached('bidders', isBidder))
    this.network.broadcast(peers.filter((peer) => bidders.has(peer)), this.toBidder(call))
  }

  /** a call as a bidder takes it: a broker for its site, a plant for itself */
  private toBidder (call: BidCall): (h: MemoryHandlers) => void {
    return (h) => {
      if (h.broker !== undefined) h.onBrokerCall?.(call, this.peer)
      else h.onPlantCall?.(call, this.peer)
    }
  }

  async publishSiteCall (site: string, call: BidCall): Promise<void> {
    this.network.broadcast(this.siteBiddersCached(site), (h) => h.onPlantCall?.(call, this.peer))
  }

  private siteBiddersCached (site: string): readonly string[] {
    return this.network.peersCached(`site:${site}`, (h) => h.plant?.site === site)
  }

  async answer (to: PeerRef, answer: BidAnswer, options: AbortOptions = {}): Promise<void> {
    await this.network.deliver(to.peer, options, (h) => h.onAnswer?.(answer, this.peer))
  }

  async order (plant: PeerRef, order: Order, options: AbortOptions = {}): Promise<Classad> {
    const signal = options.signal ?? new AbortController().signal
    return await this.network.deliver(plant.peer, options, async (h) => {
      if (h.onOrder === undefined) throw new Error(`peer ${plant.peer} takes no orders`)
      return await h.onOrder(order, this.peer, signal)
    })
  }

  async cancel (plant: PeerRef, requestId: string, options: AbortOptions = {}): Promise<void> {
    await this.network.deliver(plant.peer, options, (h) => h.onCancel?.(requestId, this.peer))
  }

  async vmRequest (plant: string, request: VmRequest, options: AbortOptions = {}): Promise<unknown> {
    const signal = options.signal ?? new AbortController().signal
    return await this.network.deliver(plant, options, async (h) => {
      if (h.onVmRequest === undefined) throw new Error(`peer ${plant} holds no VMs`)
      return await h.onVmRequest(request, signal)
    })
  }
}
