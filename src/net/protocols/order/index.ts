import { z } from 'zod'
import { classadSchema, orderCancelSchema, orderSchema, type AbortOptions, type Classad, type Order, type PeerRef } from '../../../interface/index.js'
import type { VmplantLibp2p } from '../../node.js'
import { call, serve } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'
import { verifyCreate, assertSender } from '../../auth.js'
import { ackSchema, peerTarget } from '../target.js'

const orderRequestSchema = z.discriminatedUnion('type', [orderSchema, orderCancelSchema])

/** What a plant does with an order that passed the edge: the client's signature verified, the sender known. */
export interface OrderHandlers {
  /** `from`: the noise-authenticated peer that sent the order; the plant checks it called for bids */
  onOrder: (order: Order, from: string, signal: AbortSignal) => Promise<Classad>
  onCancel: (requestId: string, from: string) => void
}

export interface OrderComponents { libp2p: VmplantLibp2p, clock: { now(): number } }

/** Registers the plant's side of `/vmplant/order`: produce a VM, or cancel an order. */
export async function serveOrders (components: OrderComponents, handlers: OrderHandlers): Promise<void> {
  await serve(components.libp2p, PROTOCOLS.order, orderRequestSchema, async (request, { remotePeer, signal }) => {
    const from = remotePeer.toString()
    if (request.type === 'order.cancel') {
      handlers.onCancel(request.requestId, from)
      return { ack: true as const }
    }
    assertSender(request.auth.owner, request.owner, `order ${request.requestId}'s signature`)
    await verifyCreate(request.auth, request.spec, request.domain, components.clock.now())
    return await handlers.onOrder(request, from, signal)
  })
}

/** The shop's side: one order, answered by the VM's classad. */
export async function sendOrder (libp2p: VmplantLibp2p, plant: PeerRef, order: Order, options: AbortOptions = {}): Promise<Classad> {
  return await call(libp2p, peerTarget(libp2p, plant), PROTOCOLS.order, order, classadSchema, options)
}

export async function sendCancel (libp2p: VmplantLibp2p, plant: PeerRef, requestId: string, options: AbortOptions = {}): Promise<void> {
  await call(libp2p, peerTarget(libp2p, plant), PROTOCOLS.order, { type: 'order.cancel', requestId }, ackSchema, { ...options, dialTimeoutMs: 3000 })
}
