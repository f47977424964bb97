import type { Logger } from '@libp2p/logger'
import { errorMessage } from '../interface/index.js'
import type { VmplantLibp2p } from './node.js'

/** how soon after a subscription the links are looked at again, doubling up to LINK_CHECK_MS */
export const FIRST_RECHECK_MS = 50

/** how often the links are looked at when every known peer is reachable */
export const LINK_CHECK_MS = 5000

/** how long a known peer may stay without a stream before gossipsub is asked to open it again */
export const REOPEN_AFTER_MS = 5000

/**
 * The peers this node has an open outbound gossipsub stream to, read from libp2p's connections
 * (public state, as `Connection.streams`): gossipsub sends a peer what it publishes only on the
 * stream it opened to it, one per peer, and forgets it when the stream closes. A stream counts
 * from the moment its protocol is negotiated; gossipsub takes it once libp2p has recorded the
 * protocol in its peer store, which it awaits, so a call published in between could still miss
 * the peer (measured on loopback: the two agreed at every turn of the event loop).
 */
function peersWithGossipStream (libp2p: VmplantLibp2p): Set<string> {
  const protocols = new Set(libp2p.services.pubsub.protocols)
  const peers = new Set<string>()
  for (const connection of libp2p.getConnections()) {
    if (connection.status !== 'open') continue
    const outbound = connection.streams.some((s) => s.direction === 'outbound' && protocols.has(s.protocol) &&
      s.status === 'open' && s.writeStatus === 'writable')
    if (outbound) peers.add(connection.remotePeer.toString())
  }
  return peers
}

/** the peers gossipsub knows and has no stream to: what it publishes now does not reach them */
function withoutStream (libp2p: VmplantLibp2p): string[] {
  const reachable = peersWithGossipStream(libp2p)
  return libp2p.services.pubsub.getPeers().map((p) => p.toString()).filter((peer) => !reachable.has(peer))
}

/** how many of gossipsub's peers it has no stream to (the metric) */
export function gossipPeersWithoutStream (libp2p: VmplantLibp2p): number {
  return withoutStream(libp2p).length
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

  constructor (private readonly libp2p: VmplantLibp2p, private readonly init: GossipLinksInit) {}

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
    return this.reachableOf([peer]).length === 1
  }

  /** the peers of `peers` a message published now is sent to */
  reachableOf (peers: string[]): string[] {
    const reachable = peersWithGossipStream(this.libp2p)
    return peers.filter((peer) => reachable.has(peer))
  }

  /** a subscription came on a peer's stream; the stream back to it may not be open yet */
  private readonly onSubscriptions = (): void => {
    const without = withoutStream(this.libp2p)
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
    void this.forgotten().catch((err: unknown) => {
      this.init.log('could not look up the protocols of connected peers: %s', errorMessage(err))
      return []
    }).then((forgotten) => { this.review(new Set([...withoutStream(this.libp2p), ...forgotten])) })
  }

  /**
   * Connected peers that speak gossipsub but that it no longer knows: it forgets a peer whose
   * stream to it failed, though the connection stays (and the peer may think its stream fine).
   */
  private async forgotten (): Promise<string[]> {
    const protocols = new Set(this.pubsub.protocols)
    const known = this.knownPeers()
    const forgotten = new Set<string>()
    for (const connection of this.libp2p.getConnections()) {
      const peer = connection.remotePeer.toString()
      if (connection.status !== 'open' || known.has(peer) || forgotten.has(peer)) continue
      const record = await this.libp2p.peerStore.get(connection.remotePeer).catch(() => undefined)
      if (record?.protocols.some((p) => protocols.has(p)) === true) forgotten.add(peer)
    }
    return [...forgotten]
  }

  /** the peers gossipsub knows: connected, speaking its protocol, and not forgotten */
  private knownPeers (): Set<string> {
    return new Set(this.pubsub.getPeers().map((p) => p.toString()))
  }

  private review (without: Set<string>): void {
    if (!this.running) return
    const now = Date.now()
    const known = this.knownPeers()
    let gained = false
    for (const peer of [...this.unreachableSince.keys()]) {
      if (without.has(peer)) continue
      this.unreachableSince.delete(peer)
      if (known.has(peer)) gained = true
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
      .catch((err: unknown) => { this.init.log('identifying %s again failed: %s', peer, errorMessage(err)) })
      .finally(() => { this.reopening.delete(peer) })
  }
}
