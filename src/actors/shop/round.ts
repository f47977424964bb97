import type { Reply } from '../runtime/index.js'
import {
  BusyError, BUSY_PREFIX, NoBidsError, toPrintable,
  type Auth, type BidCall, type BidOffer, type Classad, type CreateProgress, type CreateResult, type DomainCredential
} from '../../interface/index.js'
import type { VmSpec } from '../../planner/index.js'
import type { OrderOutcome } from './messages.js'

/** One create's round: its call for bids, who is waited for, what came in, and the client's reply. */
export interface Round {
  call: BidCall
  rawSpec: unknown
  spec: VmSpec
  owner: string
  auth: Auth
  /** the client's domain credential, passed on to the plant, which checks it */
  credential: DomainCredential
  /** waiting for the first bidders to appear: a shop that just started sees none yet */
  waiting: boolean
  /** bidders appeared; the round starts after FIRST_BIDDERS_SETTLE_MS */
  settling: boolean
  startedAt: number
  expected: Set<string>
  offers: BidOffer[]
  declines: Array<{ bidder: string, reason: string, busy?: true }>
  answered: Set<string>
  closed: boolean
  biddingMs: number
  ranked: BidOffer[]
  tie: boolean
  reply: Reply<CreateResult>
  /** tells the client of the create's steps; never throws */
  progress: (event: CreateProgress) => void
}

export interface NewRound {
  call: BidCall
  rawSpec: unknown
  spec: VmSpec
  owner: string
  auth: Auth
  credential: DomainCredential
  reply: Reply<CreateResult>
  progress?: ((event: CreateProgress) => void) | undefined
}

export function newRound (init: NewRound, now: number): Round {
  const { progress, ...rest } = init
  return {
    ...rest,
    waiting: true, settling: false, startedAt: now, expected: new Set(), offers: [], declines: [], answered: new Set(), closed: false, biddingMs: 0, ranked: [], tie: false,
    progress: (event) => {
      if (progress === undefined || init.reply.settled) return
      try {
        progress({ ...event, detail: toPrintable(event.detail, 300) })
      } catch {
        // the client's stream is its own trouble; the create goes on
      }
    }
  }
}

/** Whether every bidder the round waits for has answered (none waited for: only its deadline closes it). */
export function everyoneAnswered (round: Round): boolean {
  return round.expected.size > 0 && [...round.expected].every((peer) => round.answered.has(peer))
}

/** Why a round that closed without offers has none: every bidder busy, the declines, or nobody answered. */
export function noOffersError (round: Round): Error {
  const requestId = round.call.requestId
  if (round.declines.length > 0 && round.declines.every((d) => d.busy === true)) {
    return new BusyError(`every bidder for request ${requestId} is busy (${round.declines.map((d) => `${d.bidder.slice(-8)}: ${d.reason.slice(BUSY_PREFIX.length)}`).join('; ')})`)
  }
  const why = round.declines.length > 0
    ? `; declined: ${round.declines.map((d) => `${d.bidder.slice(-8)}: ${d.reason}`).join('; ')}`
    : round.expected.size === 0 ? '; no plant or broker is connected to this shop' : `; ${round.expected.size} bidder(s) did not answer within ${round.call.windowMs} ms`
  return new NoBidsError(`no plant bid for request ${requestId}${why}`)
}

/** What the client learns of a create that got its VM: the VM, and the round behind it. */
export function createResult (round: Round, classad: Classad, attempts: OrderOutcome['attempts']): CreateResult {
  return {
    classad,
    bidding: {
      requestId: round.call.requestId,
      expected: round.expected.size,
      answered: round.answered.size,
      offers: round.ranked.map((o) => ({ plant: o.plant.peer, cost: o.cost, reason: o.reason, ...(o.via !== undefined ? { via: o.via } : {}) })),
      declines: round.declines.map(({ bidder, reason }) => ({ bidder, reason })),
      attempts,
      chosen: classad.plant,
      tie: round.tie
    }
  }
}
