/**
 * Which subscribers a round waits for. Any peer may subscribe to the call topic; one that never
 * answers would make every round wait its whole window. A peer that let a round pass unanswered
 * is still called, but not waited for, until it answers again.
 */
export type Liveness = Map<string, { misses: number }>

export function expectedBidders (liveness: Liveness, subscribers: string[]): Set<string> {
  return new Set(subscribers.filter((peer) => (liveness.get(peer)?.misses ?? 0) === 0))
}

/** A peer that let a round pass (or could not be called): no longer waited for. */
export function noteMissed (liveness: Liveness, peer: string): void {
  liveness.set(peer, { misses: (liveness.get(peer)?.misses ?? 0) + 1 })
}

/** After a round closes: who answered is live again, who was waited for in vain is not. */
export function noteRound (liveness: Liveness, expected: Set<string>, answered: Set<string>): void {
  for (const peer of answered) liveness.set(peer, { misses: 0 })
  for (const peer of expected) if (!answered.has(peer)) noteMissed(liveness, peer)
  // forget peers that are long gone, so the map stays the size of the federation
  if (liveness.size > 10_000) for (const [peer, entry] of liveness) if (entry.misses > 100) liveness.delete(peer)
}
