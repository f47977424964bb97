import type { Transport } from '../../interface/index.js'
import type { Liveness } from './liveness.js'
import type { Round } from './round.js'

export interface ShopComponents {
  transport: Transport
  /** how long a round waits for bids, in ms; @default 2000 */
  bidWindowMs: number
  /** how long one plant may take to produce a VM, in ms: the order's agreed expiry; @default 120000 */
  orderTimeoutMs: number
  /**
   * Power of d choices: call only this many bidders, drawn at random among the expected ones, on
   * streams of their own, instead of publishing the call to all. @default undefined (call all)
   */
  choices?: number | undefined
  /**
   * creates in flight (bidding or ordering) past which a create is refused at once with a
   * BusyError, rather than queued without bound. @default undefined (no bound: the simulator's
   * shop); a node's config gives 1024 (`shop.maxPendingCreates`)
   */
  maxPendingCreates?: number | undefined
}

export const SHOP_DEFAULTS = { bidWindowMs: 2000, orderTimeoutMs: 120_000 } as const

/** All the shop keeps: the rounds of the creates in flight, and which bidders answer. */
export interface ShopState {
  rounds: Map<string, Round>
  liveness: Liveness
}
