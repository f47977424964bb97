import type { AbortOptions, AnswerOf, Clock, Command, CreateProgress, ProgressOptions, Transport } from '../src/interface/index.js'
import type { LinkModel } from './links.js'
import { ask, MemoryTransport, type MemoryFabric, type MemoryNode } from './memory-node.js'

/** a request or reply that is lost stalls its stream until the caller gives up, or as long as a libp2p dial may take */
const LOST_AFTER_MS = 10_000

export type { MemoryNode }

export interface MemoryNetworkInit {
  clock: Clock
  /** one-way delay of every message, in ms; @default 1 */
  latencyMs?: number
  /** per-message delays, loss and partitions; @default every message takes its node's `latencyMs` */
  links?: LinkModel
  /**
   * how long after it joins a node's gossip reaches it, as gossipsub opens its stream to a new
   * subscriber only after the subscription: until then calls and reports published on a topic
   * miss it, and the shops learn it is reachable when it becomes so (`bidders.changed`); its
   * site's plants are asked for their load when a broker does (`load.wanted`). Direct calls,
   * orders and requests reach it at once. @default 1
   */
  reachableAfterMs?: number
}

export const MEMORY_NETWORK_DEFAULTS = { latencyMs: 1, reachableAfterMs: 1 } as const

/**
 * A network in memory for the real actors under a virtual clock: every message takes the link's
 * latency on that clock. Senders are known by construction, as noise makes them known on libp2p.
 * Nodes that are down (`setDown`) neither receive nor answer: an answer a node had under way when
 * it went down is lost too.
 */
export class MemoryNetwork implements MemoryFabric {
  private readonly nodes = new Map<string, MemoryNode>()
  private readonly down = new Set<string>()
  /** joined, and not yet reached by gossip */
  private readonly joining = new Set<string>()
  private readonly latencyMs: number
  private readonly reachableAfterMs: number
  /**
   * answers of `peersWhere` by its caller's key, with the match that made them, until a node goes
   * up or down (a new node is added where it matches): every call for bids asks for the bidders,
   * and walking ten thousand nodes per call was most of a large run
   */
  private readonly cached = new Map<string, { match: (h: MemoryNode) => boolean, peers: string[] }>()

  constructor (private readonly init: MemoryNetworkInit) {
    this.latencyMs = init.latencyMs ?? MEMORY_NETWORK_DEFAULTS.latencyMs
    this.reachableAfterMs = init.reachableAfterMs ?? MEMORY_NETWORK_DEFAULTS.reachableAfterMs
  }

  /** joins a node; its inbox may be attached after its actors are spawned */
  join (peer: string, node: MemoryNode): Transport {
    const known = this.nodes.has(peer)
    this.nodes.set(peer, node)
    if (known) this.cached.clear()
    if (this.reachableAfterMs > 0 && (node.plant !== undefined || node.broker !== undefined)) {
      this.joining.add(peer)
      this.init.clock.sleep(this.reachableAfterMs).then(() => { this.reached(peer) }).catch(() => {})
    } else if (!known) {
      this.appendWhereMatching(peer, node)
    }
    return new MemoryTransport(this, peer, node.plant?.site)
  }

  /**
   * a new node comes last in the walk, so it is appended where it matches: ten thousand plants
   * joining, each reporting its load at once, walked all nodes once per join before
   */
  private appendWhereMatching (peer: string, node: MemoryNode): void {
    for (const entry of this.cached.values()) if (!this.down.has(peer) && entry.match(node)) entry.peers.push(peer)
  }

  /** gossip now reaches the node: the shops learn of a bidder, a broker's plants are asked for their load */
  private reached (peer: string): void {
    const node = this.nodes.get(peer)
    if (!this.joining.delete(peer) || node === undefined) return
    this.appendWhereMatching(peer, node)
    if (this.down.has(peer)) return
    this.tellShops()
    const site = node.broker?.site
    // a subscription reaches every peer of the site, gossip or not: so do a broker's
    if (site !== undefined) this.broadcast([...this.nodes].filter(([p, h]) => h.plant?.site === site && !this.down.has(p)).map(([p]) => p), { to: 'plant', type: 'load.wanted', from: peer }, peer)
  }

  private tellShops (): void {
    for (const [shop, h] of this.nodes) if (h.shop === true && !this.down.has(shop)) this.post(h, { to: 'shop', type: 'bidders.changed' })
  }

  /** a command nobody answers; the node's inbox takes it into a mailbox */
  post (node: MemoryNode, command: Command): void {
    node.inbox?.deliver(command).catch(() => {})
  }

  setDown (peer: string, down: boolean): void {
    if (down === this.down.has(peer)) return
    if (down) this.down.add(peer)
    else this.down.delete(peer)
    this.cached.clear()
    const node = this.nodes.get(peer)
    if (node?.plant === undefined && node?.broker === undefined) return
    this.tellShops()
  }

  isDown (peer: string): boolean { return this.down.has(peer) }

  /** the network's time, which the edges check signatures and credentials at */
  now (): number { return this.init.clock.now() }

  /** whether `peer` has joined, is up and its roles match */
  isUp (peer: string, match: (h: MemoryNode) => boolean): boolean {
    const node = this.nodes.get(peer)
    return node !== undefined && !this.down.has(peer) && match(node)
  }

  /** the nodes up and reached by gossip whose roles match */
  private peersWhere (match: (h: MemoryNode) => boolean): string[] {
    return [...this.nodes.entries()].filter(([peer, h]) => !this.down.has(peer) && !this.joining.has(peer) && match(h)).map(([peer]) => peer)
  }

  /**
   * `peersWhere(match)`, remembered under `key` and kept as nodes join; `match` must say the
   * same for the same handlers (it may read only their roles, which are fixed at join). The
   * caller must not change the list, nor keep it across a join.
   */
  peersCached (key: string, match: (h: MemoryNode) => boolean): readonly string[] {
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
   * `work` may send progress to the caller on the way (`progress`): each frame takes the link's
   * latency, in order, and the reply comes after the last, as on a stream.
   */
  async deliver<T>(to: string, options: ProgressOptions, work: (node: MemoryNode, progress: (event: CreateProgress) => void) => T | Promise<T>, from?: string): Promise<T> {
    const node = this.nodes.get(to)
    const latencyMs = node?.latencyMs ?? this.latencyMs
    await this.hop(from, to, to, latencyMs, options)
    if (node === undefined || this.down.has(to)) throw new Error(`peer ${to} is unreachable`)
    let frames: Promise<void> = Promise.resolve()
    const { onProgress } = options
    const progress = (event: CreateProgress): void => {
      if (onProgress === undefined) return
      const arrived = this.init.clock.sleep(latencyMs)
      frames = Promise.all([frames, arrived]).then(() => { if (!this.down.has(to)) onProgress(event) }).catch(() => {})
    }
    const result = await work(node, progress)
    if (this.down.has(to)) throw new Error(`peer ${to} went down before it answered`)
    await this.hop(to, from, to, latencyMs, options)
    await frames
    return result
  }

  /** a command to a node as a request from `from`, for what no Transport method sends (a client reading a plant's warehouse) */
  async request<C extends Command>(to: string, command: C, from: string, options: AbortOptions = {}): Promise<AnswerOf<C>> {
    return await this.deliver(to, options, async (node) => await ask(node, to, command, options), from)
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
   * gossip: each subscriber gets its command after the latency; none is waited for. No sender
   * waits, so unlike `deliver` there is no way back to wait out: that event would change nothing.
   */
  broadcast (peers: readonly string[], command: Command | ((node: MemoryNode) => Command), from?: string): void {
    const links = this.init.links
    for (const peer of peers) {
      const node = this.nodes.get(peer)
      const latencyMs = node?.latencyMs ?? this.latencyMs
      const delay = links === undefined || from === undefined ? latencyMs : links.delay(from, peer, peer, latencyMs)
      if (delay === undefined) continue
      this.init.clock.sleep(delay).then(() => {
        if (node !== undefined && !this.down.has(peer)) this.post(node, typeof command === 'function' ? command(node) : command)
      }).catch(() => {})
    }
  }
}
