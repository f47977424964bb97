import type { BidAnswer } from '../../../interface/index.js'

/** A message whose named sender is not the peer that sent it. */
export class SenderMismatchError extends Error {
  static override name = 'SenderMismatchError'
  constructor (message: string) {
    super(message)
    this.name = SenderMismatchError.name
  }
}

/** The peer an answer comes from: the broker that forwarded an offer, else the plant, or the decliner. */
export function answerBidder (answer: BidAnswer): string {
  return answer.type === 'bid.offer' ? (answer.via ?? answer.plant.peer) : answer.bidder
}
