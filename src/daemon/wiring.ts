import type { VmplantLibp2p } from '../net/node.js'
import type { ActorRef } from '../actors/runtime/index.js'
import type { ShopMessage } from '../actors/shop/messages.js'
import { shopMessages } from '../actors/shop/messages.js'
import type { PlantMessage } from '../actors/plant/messages.js'
import { plantMessages } from '../actors/plant/messages.js'
import type { BrokerMessage } from '../actors/broker/broker.js'
import { BROKER_ROUND_PREFIX } from '../actors/broker/broker.js'
import { serve } from '../net/rpc.js'
import { decodeJson } from '../net/codec.js'
import { BID_TOPIC, OFFER_TOPIC, PROTOCOLS, siteOfferTopic, siteTopic } from '../net/protocols.js'
import { bidAnswerSchema, bidCallSchema, clientRequestSchema, orderSchema, vmRequestSchema, warehouseRequestSchema, type CreateResult, type ListResult } from '../net/wire.js'
import { AuthError } from '../net/auth.js'
import { validateSpec } from '../planner/index.js'
import type { Logger } from '@libp2p/logger'

/** A call for bids is small; anything larger on the topic is noise or an attack. */
const MAX_CALL_BYTES = 64 * 1024
const MAX_ANSWER_BYTES = 16 * 1024

export interface Actors {
  shop?: ActorRef<ShopMessage>
  plant?: ActorRef<PlantMessage>
  broker?: ActorRef<BrokerMessage>
}

/**
 * Connects the node's protocols and topics to its actors: every frame is decoded and checked
 * here, so an actor only ever sees well-formed messages.
 */
export async function wireProtocols (node: VmplantLibp2p, actors: Actors, site: string | undefined, log: Logger): Promise<void> {
  const { shop, plant, broker } = actors
  const pubsub = node.services.pubsub
  const plantTopic = plantTopicOf(site)

  const siteOffers = site !== undefined ? siteOfferTopic(site) : undefined
  pubsub.addEventListener('message', (event) => {
    const message = event.detail
    const { topic, data } = message
    // gossipsub signs every message, so `from` is who really sent it
    const from = message.type === 'signed' ? message.from.toString() : undefined
    try {
      if (topic === BID_TOPIC || topic === plantTopic) {
        const call = decodeJson(data, bidCallSchema, MAX_CALL_BYTES, `call on ${topic}`)
        if (plant !== undefined && topic === plantTopic) plant.send(plantMessages.bidCall(call))
        if (broker !== undefined && topic === BID_TOPIC) broker.send({ type: 'bid.call', call })
        return
      }
      if (topic === OFFER_TOPIC || topic === siteOffers) {
        const answer = decodeJson(data, bidAnswerSchema, MAX_ANSWER_BYTES, `answer on ${topic}`)
        const sender = answer.type === 'bid.offer' ? (answer.via ?? answer.plant.peer) : answer.bidder
        if (sender !== from) throw new Error(`answer names ${sender} but was signed by ${from ?? 'nobody'}`)
        if (topic === siteOffers && broker !== undefined) broker.send({ type: 'bid.answer', answer })
        else if (topic === OFFER_TOPIC && shop !== undefined) shop.send(shopMessages.answer(answer))
      }
    } catch (err: any) {
      log('dropped a message on %s from %s: %s', topic, from, err?.message)
    }
  })

  if (shop !== undefined || broker !== undefined) {
    await serve(node, PROTOCOLS.bid, bidAnswerSchema, async (answer) => {
      if (answer.requestId.startsWith(BROKER_ROUND_PREFIX) && broker !== undefined) broker.send({ type: 'bid.answer', answer })
      else if (shop !== undefined) shop.send(shopMessages.answer(answer))
      return { ack: true as const }
    }, { maxBytes: MAX_ANSWER_BYTES, maxInboundStreams: 256 })
  }

  if (plant !== undefined) {
    await serve(node, PROTOCOLS.order, orderSchema, async (order, { signal }) => plant.ask(plantMessages.order(order), { signal }))
    await serve(node, PROTOCOLS.vm, vmRequestSchema, async (request, { signal }) => {
      switch (request.type) {
        case 'vm.query': return plant.ask(plantMessages.query(request.vmid, request.auth), { signal })
        case 'vm.destroy': return plant.ask(plantMessages.destroy(request.vmid, request.auth), { signal })
        case 'vm.list': return plant.ask(plantMessages.list(request.auth), { signal })
        default: {
          const unknown: never = request
          throw new Error(`unknown vm request ${(unknown as { type: string }).type}`)
        }
      }
    })
    await serve(node, PROTOCOLS.warehouse, warehouseRequestSchema, async (request, { signal }) => plant.ask(plantMessages.warehouse(request), { signal }))
  }

  if (shop !== undefined) {
    await serve(node, PROTOCOLS.client, clientRequestSchema, async (request, { remotePeer, signal }): Promise<unknown> => {
      const client = remotePeer.toString()
      if (request.type !== 'create' && request.auth.owner !== client) throw new AuthError(`request is signed for ${request.auth.owner} but comes from ${client}`)
      switch (request.type) {
        case 'create': return shop.ask<CreateResult>(shopMessages.create(validateSpec(request.spec), request.domain, client), { signal })
        case 'query': return shop.ask(shopMessages.query(request.vmid, request.auth), { signal })
        case 'destroy': return shop.ask(shopMessages.destroy(request.vmid, request.auth), { signal })
        case 'list': return shop.ask<ListResult>(shopMessages.list(request.auth), { signal })
        default: {
          const unknown: never = request
          throw new Error(`unknown client request ${(unknown as { type: string }).type}`)
        }
      }
    })
  }
}

/** A plant of a site listens on its site's topic, where its broker republishes calls. */
function plantTopicOf (site: string | undefined): string {
  return site !== undefined ? siteTopic(site) : BID_TOPIC
}

/** Subscribes to the topics the roles listen on; gossipsub takes subscriptions only once started. */
export function subscribeTopics (node: VmplantLibp2p, actors: Actors, site: string | undefined): void {
  const pubsub = node.services.pubsub
  if (actors.plant !== undefined) pubsub.subscribe(plantTopicOf(site))
  if (actors.broker !== undefined && site !== undefined) {
    pubsub.subscribe(BID_TOPIC)
    pubsub.subscribe(siteOfferTopic(site))
  }
  if (actors.shop !== undefined) pubsub.subscribe(OFFER_TOPIC)
}
