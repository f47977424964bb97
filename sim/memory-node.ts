import type { AbortOptions, AnswerOf, BidAnswer, BidCall, Classad, Command, CreateProgress, Inbox, LoadReport, Order, PeerRef, ProgressOptions, Transport, VmRequest } from '../src/interface/index.js'
import { orderCommand, vmCommand } from '../src/net/commands.js'

/**
 * A node of the in-memory network: its roles, fixed at join, and the edge table its commands go
 * to, the same commands the libp2p edges produce (the inbox may be attached after its actors are
 * spawned: until then, commands to it are dropped).
 */
export interface MemoryNode {
  /** a plant: its site (calls come from its broker) or none (calls come from the shop) */
  plant?: { site?: string }
  /** a broker of this site */
  broker?: { site: string }
  shop?: boolean
  inbox?: Inbox
  /** one-way delay of every message to and from this node, in ms; @default the network's */
  latencyMs?: number
}

/** What a node's transport uses of the in-memory network (MemoryNetwork). */
export interface MemoryFabric {
  peersCached(key: string, match: (node: MemoryNode) => boolean): readonly string[]
  isUp(peer: string, match: (node: MemoryNode) => boolean): boolean
  isDown(peer: string): boolean
  now(): number
  post(node: MemoryNode, command: Command): void
  broadcast(peers: readonly string[], command: Command | ((node: MemoryNode) => Command), from?: string): void
  deliver<T>(to: string, options: ProgressOptions, work: (node: MemoryNode, progress: (event: CreateProgress) => void) => T | Promise<T>, from?: string): Promise<T>
}

/** who answers the shop's calls: its brokers, and the plants of sites without one */
const isBidder = (h: MemoryNode): boolean => (h.plant !== undefined && h.plant.site === undefined) || h.broker !== undefined

/** who takes a call on a stream of its own: a bidder, or a plant its site's broker asks to confirm */
const isCallable = (h: MemoryNode): boolean => h.plant !== undefined || h.broker !== undefined

/** what a node's inbox answers, or why it cannot */
export async function ask<C extends Command> (node: MemoryNode, peer: string, command: C, options: AbortOptions): Promise<AnswerOf<C>> {
  if (node.inbox === undefined) throw new Error(`peer ${peer} takes no ${command.type}`)
  return await node.inbox.deliver(command, options)
}

/**
 * A node's transport on the in-memory network. What it sends arrives as the commands the libp2p
 * edges produce, checked by the same code (src/net/commands.ts): the client's signatures and
 * domain credentials verify on the virtual clock, and the sender is known by construction.
 */
export class MemoryTransport implements Transport {
  /** `site`: a plant's site, whose brokers get its load reports */
  constructor (private readonly network: MemoryFabric, private readonly peer: string, private readonly site?: string) {}

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
  private toBidder (call: BidCall): (node: MemoryNode) => Command {
    return (node) => node.broker !== undefined ? { to: 'broker', type: 'bid.call', call, from: this.peer } : { to: 'plant', type: 'bid.call', call, from: this.peer }
  }

  async publishSiteCall (site: string, call: BidCall): Promise<void> {
    this.network.broadcast(this.siteBiddersCached(site), { to: 'plant', type: 'bid.call', call, from: this.peer }, this.peer)
  }

  async reportLoad (report: LoadReport): Promise<void> {
    const site = this.site
    if (site === undefined) throw new Error(`${this.peer} has no site to report its load to`)
    // a plant that is down has crashed: its heartbeat stops, which is how its broker learns it is gone
    if (this.network.isDown(this.peer)) return
    this.network.broadcast(this.network.peersCached(`brokers:${site}`, (h) => h.broker?.site === site), { to: 'broker', type: 'load.report', report, from: this.peer }, this.peer)
  }

  private siteBiddersCached (site: string): readonly string[] {
    return this.network.peersCached(`site:${site}`, (h) => h.plant?.site === site)
  }

  async answer (to: PeerRef, answer: BidAnswer, options: AbortOptions = {}): Promise<void> {
    const from = this.peer
    await this.network.deliver(to.peer, options, (node) => {
      // as on libp2p, a node with both roles gives the answer to both
      if (node.shop === true) this.network.post(node, { to: 'shop', type: 'bid.answer', answer, from })
      if (node.broker !== undefined) this.network.post(node, { to: 'broker', type: 'bid.answer', answer, from })
    }, from)
  }

  async order (plant: PeerRef, order: Order, options: ProgressOptions = {}): Promise<Classad> {
    const signal = options.signal ?? new AbortController().signal
    return await this.network.deliver(plant.peer, options, async (node, progress) =>
      await ask(node, plant.peer, await orderCommand(order, this.peer, this.network.now(), progress), { signal }), this.peer)
  }

  async cancel (plant: PeerRef, requestId: string, options: AbortOptions = {}): Promise<void> {
    await this.network.deliver(plant.peer, options, (node) => { this.network.post(node, { to: 'plant', type: 'order.cancel', requestId, from: this.peer }) }, this.peer)
  }

  async vmRequest (plant: string, request: VmRequest, options: AbortOptions = {}): Promise<unknown> {
    const signal = options.signal ?? new AbortController().signal
    return await this.network.deliver(plant, options, async (node) => await ask(node, plant, await vmCommand(request, this.peer, this.network.now()), { signal }), this.peer)
  }
}
