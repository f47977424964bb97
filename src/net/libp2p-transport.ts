import type { AbortOptions, BidAnswer, BidCall, LoadReport, Order, PeerRef, Transport, VmRequest } from '../interface/index.js'
import type { VmplantLibp2p } from './node.js'
import { PROTOCOLS } from './protocols.js'
import type { BidsService } from './protocols/bids/index.js'
import type { LoadService } from './protocols/load/index.js'
import type { OrderProtocol } from './protocols/order/index.js'
import type { VmProtocol } from './protocols/vm/index.js'

/** The client halves of the protocols the actors send on. */
export interface TransportProtocols {
  bids: BidsService
  orders: OrderProtocol
  vms: VmProtocol
  /** load reports: a node with a site and a plant or broker role has them */
  load?: LoadService | undefined
}

/** The actors' network on a libp2p node: the protocols' client halves behind the Transport port. */
export class Libp2pTransport implements Transport {
  private selfRef?: PeerRef

  constructor (private readonly node: VmplantLibp2p, private readonly protocols: TransportProtocols) {
    node.addEventListener('self:peer:update', () => { this.selfRef = undefined })
  }

  /** turning multiaddrs into strings for every answer costs more than the answer; they change rarely */
  self (): PeerRef {
    this.selfRef ??= { peer: this.node.peerId.toString(), addrs: this.node.getMultiaddrs().map((a) => a.toString()) }
    return this.selfRef
  }

  bidders (): string[] { return this.protocols.bids.bidders() }
  siteBidders (site: string): string[] { return this.protocols.bids.siteBidders(site) }

  async plants (options: AbortOptions = {}): Promise<string[]> {
    options.signal?.throwIfAborted()
    const peers = await this.node.peerStore.all()
    return peers.filter((p) => p.protocols.includes(PROTOCOLS.vm)).map((p) => p.id.toString())
  }

  async publishCall (call: BidCall, options?: AbortOptions): Promise<void> { await this.protocols.bids.publishCall(call, options) }
  async publishSiteCall (site: string, call: BidCall, options?: AbortOptions): Promise<void> { await this.protocols.bids.publishSiteCall(site, call, options) }
  async callBidders (peers: string[], call: BidCall, options?: AbortOptions): Promise<string[]> { return await this.protocols.bids.callPeers(peers, call, options) }
  async reportLoad (report: LoadReport, options?: AbortOptions): Promise<void> {
    if (this.protocols.load === undefined) throw new Error('this node has no site to report its load to')
    await this.protocols.load.report(report, options)
  }

  async answer (to: PeerRef, answer: BidAnswer, options?: AbortOptions): Promise<void> { await this.protocols.bids.answer(to, answer, options) }
  async order (plant: PeerRef, order: Order, options?: AbortOptions) { return await this.protocols.orders.order(plant, order, options) }
  async cancel (plant: PeerRef, requestId: string, options?: AbortOptions): Promise<void> { await this.protocols.orders.cancel(plant, requestId, options) }
  async vmRequest (plant: string, request: VmRequest, options?: AbortOptions): Promise<unknown> { return await this.protocols.vms.request(plant, request, options) }
}
