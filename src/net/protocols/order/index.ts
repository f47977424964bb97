import { z } from 'zod'
import { classadSchema, orderCancelSchema, orderSchema, type AbortOptions, type Classad, type Inbox, type Order, type PeerRef, type ProgressOptions } from '../../../interface/index.js'
import { call, serve } from '../../rpc.js'
import { DEFAULT_MAX_INBOUND_STREAMS } from '../../limits.js'
import { PROTOCOLS } from '../../protocols.js'
import { orderCommand } from '../../commands.js'
import { ackSchema, peerTarget, type SigningEdgeComponents } from '../target.js'
import { checkedProgress } from '../progress.js'

export { AuthError } from '../../auth.js'

const orderRequestSchema = z.discriminatedUnion('type', [orderSchema, orderCancelSchema])

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
  /**
   * registers the plant's side: the edge verifies the client's signature over spec and domain, and
   * the domain's credential for that client, and gives the plant `order.produce` (its progress
   * sent to the shop ahead of the classad) and `order.cancel` commands from the sending peer
   */
  handle(inbox: Inbox): Promise<void>
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

  async handle (inbox: Inbox): Promise<void> {
    const { libp2p, clock } = this.components
    await serve(libp2p, PROTOCOLS.order, orderRequestSchema, async (request, { remotePeer, signal, progress }) => {
      const from = remotePeer.toString()
      if (request.type === 'order.cancel') {
        await inbox.deliver({ to: 'plant', type: 'order.cancel', requestId: request.requestId, from })
        return { ack: true as const }
      }
      return await inbox.deliver(await orderCommand(request, from, clock.now(), progress), { signal })
    }, { timeoutMs: this.init.timeoutMs, maxInboundStreams: this.init.maxRequestsPerConnection })
  }

  async order (plant: PeerRef, order: Order, options: ProgressOptions = {}): Promise<Classad> {
    const { libp2p } = this.components
    return await call(libp2p, peerTarget(libp2p, plant), PROTOCOLS.order, order, classadSchema, { ...checkedProgress(options, `plant ${plant.peer}`), namedErrors: true })
  }

  async cancel (plant: PeerRef, requestId: string, options: AbortOptions = {}): Promise<void> {
    const { libp2p } = this.components
    await call(libp2p, peerTarget(libp2p, plant), PROTOCOLS.order, { type: 'order.cancel', requestId }, ackSchema, { ...options, dialTimeoutMs: this.init.cancelDialTimeoutMs, namedErrors: true })
  }
}

export function orderProtocol (components: OrderProtocolComponents, init: OrderProtocolInit = {}): OrderProtocol {
  return new Orders(components, init)
}
