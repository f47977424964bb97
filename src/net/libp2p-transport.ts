import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import type { PeerId } from '@libp2p/interface'
import type { Transport } from '../actors/transport.js'
import type { VmplantLibp2p } from './node.js'
import { call } from './rpc.js'
import { encodeJson } from './codec.js'
import { BID_TOPIC, OFFER_TOPIC, PROTOCOLS, siteOfferTopic, siteTopic } from './protocols.js'
import { classadSchema, type BidAnswer, type BidCall, type Order, type PeerRef, type VmRequest } from './wire.js'
import type { AbortOptions } from '../hypervisor/index.js'

export const ackSchema = z.strictObject({ ack: z.literal(true) })

/** The actors' network, on a libp2p node. */
export class Libp2pTransport implements Transport {
  private readonly offerTopics: string[]
  private selfRef?: PeerRef

  /** `site`: the site whose broker this node's plant answers */
  constructor (private readonly node: VmplantLibp2p, site?: string) {
    this.offerTopics = site !== undefined ? [siteOfferTopic(site), OFFER_TOPIC] : [OFFER_TOPIC]
    node.addEventListener('self:peer:update', () => { this.selfRef = undefined })
  }

  /** turning multiaddrs into strings for every answer costs more than the answer; they change rarely */
  self (): PeerRef {
    this.selfRef ??= { peer: this.node.peerId.toString(), addrs: this.node.getMultiaddrs().map((a) => a.toString()) }
    return this.selfRef
  }

  bidders (): string[] {
    return this.node.services.pubsub.getSubscribers(BID_TOPIC).map((p) => p.toString())
  }

  siteBidders (site: string): string[] {
    return this.node.services.pubsub.getSubscribers(siteTopic(site)).map((p) => p.toString())
  }

  async plants (): Promise<string[]> {
    const peers = await this.node.peerStore.all()
    return peers.filter((p) => p.protocols.includes(PROTOCOLS.vm)).map((p) => p.id.toString())
  }

  async publishCall (bidCall: BidCall, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.node.services.pubsub.publish(BID_TOPIC, encodeJson(bidCall))
  }

  async publishSiteCall (site: string, bidCall: BidCall, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.node.services.pubsub.publish(siteTopic(site), encodeJson(bidCall))
  }

  /**
   * Answers go out on the offer topic that the caller listens on, over streams gossipsub already
   * keeps open: a new stream per bid costs several round trips. A caller that cannot be reached
   * through gossipsub (not a direct peer) gets the answer on a stream of its own.
   */
  async answer (to: PeerRef, answer: BidAnswer, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const pubsub = this.node.services.pubsub
    const topic = this.offerTopics.find((t) => pubsub.getSubscribers(t).some((p) => p.toString() === to.peer))
    if (topic !== undefined) {
      await pubsub.publish(topic, encodeJson(answer))
      return
    }
    await call(this.node, this.target(to), PROTOCOLS.bid, answer, ackSchema, options)
  }

  async order (plant: PeerRef, order: Order, options: AbortOptions = {}) {
    return await call(this.node, this.target(plant), PROTOCOLS.order, order, classadSchema, options)
  }

  async vmRequest (plant: string, request: VmRequest, options: AbortOptions = {}): Promise<unknown> {
    return await call(this.node, peerIdFromString(plant), PROTOCOLS.vm, request, z.unknown(), options)
  }

  /** a peer we are connected to is dialled by id; otherwise by the addresses it gave */
  private target (ref: PeerRef): PeerId | Multiaddr[] {
    const id = peerIdFromString(ref.peer)
    if (this.node.getConnections(id).length > 0 || ref.addrs.length === 0) return id
    return ref.addrs.map((a) => {
      const ma = multiaddr(a)
      return ma.getComponents().some((c) => c.name === 'p2p') ? ma : ma.encapsulate(`/p2p/${ref.peer}`)
    })
  }
}
