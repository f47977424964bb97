import type { BidAnswer, Classad } from '../../interface/index.js'
import type { EndReason } from './order-machine.js'

/** An answer to a call for bids reached the caller (an offer or a decline with its reason). */
export interface BidAnswered { type: 'bid.answered', answer: BidAnswer }
/** An order arrived for one of the plant's offers, taken or not. */
export interface OrderReceived { type: 'order.received', requestId: string, from: string }
/** The VM of an order is recorded, held and handed to the shop. */
export interface OrderDelivered { type: 'order.delivered', vmid: string, requestId: string, classad: Classad }
/** An order ended without delivering; the shop got `error`. */
export interface OrderEnded { type: 'order.ended', vmid: string, requestId: string, reason: EndReason, error: Error }
/** A write to the plant store failed: a VM's record on commit, or its removal after a destroy. */
export interface StoreWriteFailed { type: 'store.write-failed', op: 'commit' | 'remove', vmid: string, error: Error }

/** What the plant tells its observers (metrics, tests) through `ctx.emit`. */
export type PlantEvent = BidAnswered | OrderReceived | OrderDelivered | OrderEnded | StoreWriteFailed
