import type { Logger } from '@libp2p/logger'
import type { VmplantLibp2p } from './node.js'

/** how soon after a subscription the links are looked at again, doubling up to LINK_CHECK_MS */
export const FIRST_RECHECK_MS = 50

/** how often the links are looked at when every known peer is reachable */
export const LINK_CHECK_MS = 5000

/** how long a known peer may stay without a stream before gossipsub is asked to open it again */
export const REOPEN_AFTER_MS = 5000

/**
 * What gossipsub's implementation keeps of its peers: public fields of its class, though not of
 * the interface the package exports. Checked at construction, so that a gossipsub that no longer
 * has them fails at once rather than leaving every peer unreachable.
 */
interface GossipSubPeers { peers: Map<string, unknown>, streamsOutbound: Map<string, unknown>, protocols: string[] }

function gossipSubPeers (pubsub: unknown): GossipSubPeers {
  const candidate = pubsub as Partial<GossipSubPeers>
  if (!(candidate.peers instanceof Map) || !(candidate.streamsOutbound instanceof Map) || !Array.isArray(candidate.protocols)) {
    throw new Error('this gossipsub keeps no peers and outbound streams map; vmplant cannot tell which peers a message reaches')
  }
  return candidate as GossipSubPeers
}

/** the peers gossipsub knows and has no stream to: what it publishes now does not reach them */
function withoutStream (gossip: GossipSubPeers): string[] {
  return [...gossip.peers.keys()].filter((peer) => !gossip.streamsOutbound.has(peer))
}

/** how many of gossipsub's peers it has no stream to (the metric) */
export function gossipPeersWithoutStream (libp2p: VmplantLibp2p): number {
  return withoutStream(gossipSubPeers(libp2p.services.pubsub)).length
}

export interface GossipLinksInit {
  /** some peers became reachable: a message published now reaches more subscribers than before */
  onReachable: () => void
  log: Logger
}

/**
 * Which of gossipsub's peers a message published now reaches. gossipsub sends only on its
 * outbound stream to a peer, which it opens in a queue, one peer after another, once the peer is
 * identified or opened a stream to it; the peer's subscriptions come on the peer's own stream,
 * and on a busy node seconds before the stream back. A message published in between is dropped
 * for that peer without a word: a shop that counted it as a bidder waited its whole bid window
 * for an answer to a call the bidder never got. gossipsub also never opens a stream again that
 * failed, or closed while its connection stays open (the peer is reached no more).
 *
 * So the bidders a round waits for are only the reachable subscribers; `onReachable` tells when
 * more became reachable; and a peer left without a stream for REOPEN_AFTER_MS (or that gossipsub
 * forgot though it is still connected) is identified again, which runs gossipsub's topology for it
 * and opens the stream. Timers here are the host's: this is the network edge, not an actor.
 */
export class GossipLinks {
  private timer: ReturnType<typeof setTimeout> | undefined
  private nextMs = LINK_CHECK_MS
  private running = false
  /** peers known without a stream, since when (ms) */
  private readonly unreachableSince = new Map<string, number>()
  private readonly reopening = new Set<string>()

  private readonly gossip: GossipSubPeers

  constructor (private readonly libp2p: VmplantLibp2p, private readonly init: GossipLinksInit) {
    this.gossip = gossipSubPeers(libp2p.services.pubsub)
  }

  private get pubsub () { return this.libp2p.services.pubsub }

  start (): void {
    if (this.running) return
    this.running = true
    this.pubsub.addEventListener('subscription-change', this.onSubscriptions)
    this.schedule(LINK_CHECK_MS)
  }

  stop (): void {
    this.running = false
    this.pubsub.removeEventListener('subscription-change', this.onSubscriptions)
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** whether a message published now is sent to `peer` */
  reachable (peer: string): boolean {
    return this.gossip.streamsOutbound.has(peer)
  }

  /** the peers of `peers` a message published now is sent to */
  reachableOf (peers: string[]): string[] {
    return peers.filter((peer) => this.reachable(peer))
  }

  /** a subscription came on a peer's stream; the stream back to it may not be open yet */
  private readonly onSubscriptions = (): void => {
    const without = withoutStream(this.gossip)
    const now = Date.now()
    for (const peer of without) if (!this.unreachableSince.has(peer)) this.unreachableSince.set(peer, now)
    if (without.length > 0) this.schedule(FIRST_RECHECK_MS)
  }

  private schedule (ms: number): void {
    if (!this.running) return
    if (this.timer !== undefined && ms >= this.nextMs) return
    clearTimeout(this.timer)
    this.nextMs = ms
    this.timer = setTimeout(this.check, ms)
    this.timer.unref?.()
  }

  private readonly check = (): void => {
    this.timer = undefined
    if (!this.running) return
    void this.forgotten().catch((err: Error) => {
      this.init.log('could not look up the protocols of connected peers: %s', err?.message)
      return []
    }).then((forgotten) => { this.review(new Set([...withoutStream(this.gossip), ...forgotten])) })
  }

  /**
   * Connected peers that speak gossipsub but that it no longer knows: it forgets a peer whose
   * stream to it failed, though the connection stays (and the peer may think its stream fine).
   */
  private async forgotten (): Promise<string[]> {
    const protocols = new Set(this.gossip.protocols)
    const forgotten = new Set<string>()
    for (const connection of this.libp2p.getConnections()) {
      const peer = connection.remotePeer.toString()
      if (connection.status !== 'open' || this.gossip.peers.has(peer) || forgotten.has(peer)) continue
      const known = await this.libp2p.peerStore.get(connection.remotePeer).catch(() => undefined)
      if (known?.protocols.some((p) => protocols.has(p)) === true) forgotten.add(peer)
    }
    return [...forgotten]
  }

  private review (without: Set<string>): void {
    if (!this.running) return
    const now = Date.now()
    let gained = false
    for (const peer of [...this.unreachableSince.keys()]) {
      if (without.has(peer)) continue
      this.unreachableSince.delete(peer)
      if (this.gossip.peers.has(peer)) gained = true
    }
    for (const peer of without) {
      const since = this.unreachableSince.get(peer)
      if (since === undefined) this.unreachableSince.set(peer, now)
      else if (now - since >= REOPEN_AFTER_MS) this.reopen(peer)
    }
    if (gained) this.init.onReachable()
    // while a peer has no stream yet, look again soon, then less and less often
    this.schedule(without.size > 0 ? Math.min(this.nextMs * 2, LINK_CHECK_MS) : LINK_CHECK_MS)
  }

  /** identify again on an open connection, so that gossipsub's topology opens its stream */
  private reopen (peer: string): void {
    if (this.reopening.has(peer)) return
    const connection = this.libp2p.getConnections().find((c) => c.remotePeer.toString() === peer && c.status === 'open')
    if (connection === undefined) return
    this.reopening.add(peer)
    this.unreachableSince.set(peer, Date.now())
    this.init.log('gossipsub has no stream to %s; identifying it again so that it opens one', peer)
    this.libp2p.services.identify.identify(connection, { signal: AbortSignal.timeout(REOPEN_AFTER_MS) })
      .catch((err: Error) => { this.init.log('identifying %s again failed: %s', peer, err?.message) })
      .finally(() => { this.reopening.delete(peer) })
  }
}
