import type { BidAnswer, BidCall, Classad, Order, PeerRef, VmRequest } from '../net/wire.js'
import type { AbortOptions } from '../hypervisor/index.js'

/**
 * Everything the actors send or learn through the network. The daemon gives them one built on
 * libp2p; the simulator gives them one built on its own event queue.
 */
export interface Transport {
  /** this node, as others dial it */
  self(): PeerRef
  /** peers that listen to the federation's calls for bids (plants and brokers) */
  bidders(): string[]
  /** peers that listen to a site's calls for bids (that site's plants) */
  siteBidders(site: string): string[]
  /** peers known to hold VMs (plants), for list */
  plants(): Promise<string[]>
  publishCall(call: BidCall, options?: AbortOptions): Promise<void>
  publishSiteCall(site: string, call: BidCall, options?: AbortOptions): Promise<void>
  /** sends an offer or a decline to whoever called */
  answer(to: PeerRef, answer: BidAnswer, options?: AbortOptions): Promise<void>
  /** orders a plant to produce a VM; resolves with its classad */
  order(plant: PeerRef, order: Order, options?: AbortOptions): Promise<Classad>
  /** asks the plant that holds a VM about it (query, destroy, list) */
  vmRequest(plant: string, request: VmRequest, options?: AbortOptions): Promise<unknown>
}
