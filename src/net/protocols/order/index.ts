import { z } from 'zod'
import { classadSchema, orderCancelSchema, orderSchema, type AbortOptions, type Classad, type CreateProgress, type Order, type PeerRef, type ProgressOptions } from '../../../interface/index.js'
import { call, serve } from '../../rpc.js'
import { DEFAULT_MAX_INBOUND_STREAMS } from '../../limits.js'
import { PROTOCOLS } from '../../protocols.js'
import { verifyCreate, assertSender, verifyDomainCredential } from '../../auth.js'
import { ackSchema, peerTarget, type SigningEdgeComponents } from '../target.js'
import { checkedProgress } from '../progress.js'

export { AuthError } from '../../auth.js'

const orderRequestSchema = z.discriminatedUnion('type', [orderSchema, orderCancelSchema])

/** What a plant does with an order that passed the edge: the client's signature and the domain credential verified, the sender known. */
export interface OrderHandlers {
  /**
   * `from`: the noise-authenticated peer that sent the order; the plant checks it called for bids.
   * `progress` sends the production's steps to the shop ahead of the classad.
   */
  onOrder: (order: Order, from: string, signal: AbortSignal, progress: (event: CreateProgress) => void) => Promise<Classad>
  onCancel: (requestId: string, from: string) => void
}

export interface OrderProtocolInit {
  /** how long the plant may take to answer an order before the stream is dropped; @default 600000 */
  timeoutMs?: number
  /** how long finding an unreachable plant may take before a cancel is given up (the shop retries); @default 3000 */
  cancelDialTimeoutMs?: number
  /** orders and cancels one connection (a shop's) may have in flight before more are answered "busy"; @default DEFAULT_MAX_INBOUND_STREAMS */
  maxRequestsPerConnection?: number
}

export interface OrderProtocolComponents extends SigningEdgeComponents {}

/** `/vmplant/order/1.0.0`: a shop orders a VM from a plant, or cancels an order. */
export interface OrderProtocol {
  /** registers the plant's side: the edge verifies the client's signature over spec and domain, and the domain's credential for that client */
  handle(handlers: OrderHandlers): Promise<void>
  /** the shop's side: one order, answered by the VM's classad; `onProgress` sees the plant's steps (a malformed one is dropped) */
  order(plant: PeerRef, order: Order, options?: ProgressOptions): Promise<Classad>
  cancel(plant: PeerRef, requestId: string, options?: AbortOptions): Promise<void>
}

export const ORDER_DEFAULTS = { timeoutMs: 600_000, cancelDialTimeoutMs: 3000, maxRequestsPerConnection: DEFAULT_MAX_INBOUND_STREAMS } as const

class Orders implements OrderProtocol {
  private readonly init: Required<OrderProtocolInit>

  constructor (private readonly components: OrderProtocolComponents, init: OrderProtocolInit) {
    this.init = { ...ORDER_DEFAULTS, ...init }
  }

  async handle (handlers: OrderHandlers): Promise<void> {
    const { libp2p, clock } = this.components
    await serve(libp2p, PROTOCOLS.order, orderRequestSchema, async (request, { remotePeer, signal, progress }) => {
      const from = remotePeer.toString()
      if (request.type === 'order.cancel') {
        handlers.onCancel(request.requestId, from)
        return { ack: true as const }
      }
      assertSender(request.auth.owner, request.owner, `order ${request.requestId}'s signature`)
      const now = clock.now()
      // the plant is the authority on domains: the shop only passed the client's credential on
      const domain = await verifyDomainCredential(request.credential, { peer: request.owner, now, domain: request.domain })
      await verifyCreate(request.auth, request.spec, request.domain, now, domain.key)
      return await handlers.onOrder(request, from, signal, progress)
    }, { timeoutMs: this.init.timeoutMs, maxInboundStreams: this.init.maxRequestsPerConnection })
  }

  async order (plant: PeerRef, order: Order, options: ProgressOptions = {}): Promise<Classad> {
    const { libp2p } = this.components
    return await call(libp2p, peerTarget(libp2p, plant), PROTOCOLS.order, order, classadSchema, checkedProgress(options, `plant ${plant.peer}`))
  }

  async cancel (plant: PeerRef, requestId: string, options: AbortOptions = {}): Promise<void> {
    const { libp2p } = this.components
    await call(libp2p, peerTarget(libp2p, plant), PROTOCOLS.order, { type: 'order.cancel', requestId }, ackSchema, { ...options, dialTimeoutMs: this.init.cancelDialTimeoutMs })
  }
}

export function orderProtocol (components: OrderProtocolComponents, init: OrderProtocolInit = {}): OrderProtocol {
  return new Orders(components, init)
}
