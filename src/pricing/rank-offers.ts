import type { BidOffer, Random } from '../interface/index.js'

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
