/** Transfers shorter than this say more about latency than about the link, and are not counted. */
const MIN_MEASURED_BYTES = 1024 * 1024
/** weight of the newest transfer in the running figure */
const WEIGHT = 0.5

/**
 * The speed of past transfers, per peer and over all peers, in bytes per second: a running
 * average that follows the newest transfers, so a bid prices a fetch by what the link did lately.
 */
export class LinkSpeeds {
  private readonly byPeer = new Map<string, number>()
  private overall: number | undefined

  /** records a transfer of `bytes` in `ms` from `peer`; small or instant ones are ignored */
  note (peer: string, bytes: number, ms: number): void {
    if (bytes < MIN_MEASURED_BYTES || ms <= 0) return
    const speed = bytes / (ms / 1000)
    const last = this.byPeer.get(peer)
    this.byPeer.set(peer, last === undefined ? speed : WEIGHT * speed + (1 - WEIGHT) * last)
    this.overall = this.overall === undefined ? speed : WEIGHT * speed + (1 - WEIGHT) * this.overall
    if (this.byPeer.size > 1024) this.byPeer.delete(this.byPeer.keys().next().value as string)
  }

  /** bytes per second from `peer`, else over all peers; undefined before the first measured transfer */
  of (peer?: string): number | undefined {
    return (peer !== undefined ? this.byPeer.get(peer) : undefined) ?? this.overall
  }
}
