import type { Random } from '../runtime/index.js'
import type { BidOffer } from '../../interface/messages.js'

/**
 * Orders offers cheapest first; offers of equal cost come in a random order, so that a tie is
 * broken at random (section 3.4) and the runners-up are the fallbacks.
 */
export function rankOffers (offers: BidOffer[], random: Random): { ranked: BidOffer[], tie: boolean } {
  const shuffled = [...offers]
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = random.int(i + 1)
    ;[shuffled[i], shuffled[j]] = [shuffled[j] as BidOffer, shuffled[i] as BidOffer]
  }
  const ranked = shuffled.sort((a, b) => a.cost - b.cost)
  const tie = ranked.length > 1 && ranked[0]?.cost === ranked[1]?.cost
  return { ranked, tie }
}

/** `d` of `items` drawn without replacement (a partial Fisher-Yates shuffle on the seeded source). */
export function chooseAtRandom<T> (items: T[], d: number, random: Random): T[] {
  const pool = [...items]
  const n = Math.min(d, pool.length)
  for (let i = 0; i < n; i++) {
    const j = i + random.int(pool.length - i)
    ;[pool[i], pool[j]] = [pool[j] as T, pool[i] as T]
  }
  return pool.slice(0, n)
}
