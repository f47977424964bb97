import type { AbortOptions } from './abort.js'
import type { BidAnswer, BidCall, Classad, LoadReport, Order, PeerRef, ProgressOptions, VmRequest } from './messages.js'

/**
 * Everything the actors send through the network. The daemon gives them one built on libp2p; the
 * simulator and the virtual-time tests give them one in memory. What arrives comes to the actors
 * as typed commands from the protocols' edges, already decoded and bound to their senders.
 */
export interface Transport {
  /** this node, as others dial it */
  self(): PeerRef
  /** peers that listen to the federation's calls for bids (plants and brokers) */
  bidders(): string[]
  /** peers that listen to a site's calls for bids (that site's plants) */
  siteBidders(site: string): string[]
  /** peers known to hold VMs (plants), for list */
  plants(options?: AbortOptions): Promise<string[]>
  publishCall(call: BidCall, options?: AbortOptions): Promise<void>
  publishSiteCall(site: string, call: BidCall, options?: AbortOptions): Promise<void>
  /**
   * sends the call to these peers only, each on its own stream: the shop's power of d choices, and
   * the broker's confirmation with the one plant it chose from its plants' load reports. Resolves
   * with the peers the call could not be sent to: they will not answer
   */
  callBidders(peers: string[], call: BidCall, options?: AbortOptions): Promise<string[]>
  /** a plant's load, to the brokers of its site (none listening: nobody gets it) */
  reportLoad(report: LoadReport, options?: AbortOptions): Promise<void>
  /** sends an offer or a decline to whoever called */
  answer(to: PeerRef, answer: BidAnswer, options?: AbortOptions): Promise<void>
  /** orders a plant to produce a VM; resolves with its classad, reporting the production's steps on the way */
  order(plant: PeerRef, order: Order, options?: ProgressOptions): Promise<Classad>
  /** tells a plant that the shop gave up on an order: it aborts the production or destroys the VM */
  cancel(plant: PeerRef, requestId: string, options?: AbortOptions): Promise<void>
  /** asks the plant that holds a VM about it (query, destroy, list) */
  vmRequest(plant: string, request: VmRequest, options?: AbortOptions): Promise<unknown>
}
