import { logger, type Logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Message as PubsubMessage } from '@libp2p/gossipsub'
import { answerBidder, AuthError, bidAnswerSchema, errorMessage, bidCallSchema, type AbortOptions, type BidAnswer, type BidCall, type Command, type Inbox, type PeerRef } from '../../../interface/index.js'
import type { VmplantLibp2p } from '../../node.js'
import { decodeJson, encodeJson } from '../../codec.js'
import { call, serve } from '../../rpc.js'
import { BID_TOPIC, OFFER_TOPIC, PROTOCOLS, siteOfferTopic, siteTopic } from '../../protocols.js'
import { ackSchema } from '../target.js'
import { ANSWERS_PROTOCOL, FrameChannels, serveFrames } from './channels.js'
import { GossipLinks } from '../../gossip-links.js'

export { AuthError, ANSWERS_PROTOCOL }

/** A call for bids is small; anything larger on the topic is noise or an attack. */
export const MAX_CALL_BYTES = 64 * 1024
export const MAX_ANSWER_BYTES = 16 * 1024

/**
 * Where the node's bidding traffic goes, bound to its sender: `bid.call` to the plant (on its
 * site's topic, or the federation's without a site) or the broker (the federation's, to
 * republish), `bid.answer` to the shop and the broker (each keeps only its own rounds' answers),
 * `bidders.changed` to the shop when the peers a call reaches change.
 */
export interface BidsHandlers {
  inbox: Inbox
  /** a message that failed decoding or sender binding; it was dropped */
  onDropped?: (what: string, from: string | undefined, reason: string) => void
}

export interface BidsInit {
  /** the site whose broker this node's plant answers, or that this node's broker serves */
  site?: string
  plant: boolean
  broker: boolean
  shop: boolean
  /** @default 'vmplant:bids' */
  logPrefix?: string
}

export interface BidsComponents { libp2p: VmplantLibp2p }

/**
 * The bidding protocol. Calls gossip on the call topics, which bidders subscribe to (or go to
 * chosen bidders on a `/vmplant/call` stream of their own); answers go back once, on a long-lived
 * `/vmplant/answers` stream to the caller (`channels.ts`). The caller's edges also take signed
 * answers on the offer topics, and answers on `/vmplant/bid` streams, from peers that send them there.
 */
export interface BidsService {
  /** registers the stream handler and the topic listener; call before libp2p starts */
  start(): Promise<void>
  /** subscribes to the roles' topics; gossipsub takes subscriptions only once libp2p runs */
  subscribe(): void
  stop(): Promise<void>
  /** the federation's bidders a call published now reaches: subscribed, with gossipsub's stream to them open */
  bidders(): string[]
  /** the same, of one site's call topic */
  siteBidders(site: string): string[]
  publishCall(call: BidCall, options?: AbortOptions): Promise<void>
  publishSiteCall(site: string, call: BidCall, options?: AbortOptions): Promise<void>
  /** the call on a stream to each of `peers`; resolves with the peers it could not be sent to (they will not answer) */
  callPeers(peers: string[], call: BidCall, options?: AbortOptions): Promise<string[]>
  answer(to: PeerRef, answer: BidAnswer, options?: AbortOptions): Promise<void>
}

class Bids implements BidsService {
  private readonly log: Logger
  private readonly plantTopic: string
  private readonly answerTopics: string[]
  private readonly answers: FrameChannels
  private readonly links: GossipLinks
  private listening = false

  constructor (private readonly components: BidsComponents, private readonly init: BidsInit, private readonly handlers: BidsHandlers) {
    this.log = logger(init.logPrefix ?? 'vmplant:bids')
    this.plantTopic = init.site !== undefined ? siteTopic(init.site) : BID_TOPIC
    this.answerTopics = init.site !== undefined ? [siteOfferTopic(init.site), OFFER_TOPIC] : [OFFER_TOPIC]
    this.answers = new FrameChannels(components.libp2p, ANSWERS_PROTOCOL, this.log)
    this.links = new GossipLinks(components.libp2p, { onReachable: () => { this.post({ to: 'shop', type: 'bidders.changed' }) }, log: this.log })
  }

  private get pubsub () { return this.components.libp2p.services.pubsub }

  async start (): Promise<void> {
    if (this.listening) return
    this.listening = true
    this.pubsub.addEventListener('message', this.onMessage)
    this.pubsub.addEventListener('subscription-change', this.onSubscriptions)
    this.links.start()
    if (this.init.shop || this.init.broker) {
      await serveFrames(this.components.libp2p, ANSWERS_PROTOCOL, bidAnswerSchema, MAX_ANSWER_BYTES, (answer, from) => { this.acceptAnswer(answer, from, ANSWERS_PROTOCOL) }, (from, reason) => { this.dropped(`answer on ${ANSWERS_PROTOCOL}`, from, reason) })
      await serve(this.components.libp2p, PROTOCOLS.bid, bidAnswerSchema, async (answer, { remotePeer }) => {
        this.acceptAnswer(answer, remotePeer.toString(), PROTOCOLS.bid)
        return { ack: true as const }
      }, { maxBytes: MAX_ANSWER_BYTES, maxInboundStreams: 256 })
    }
    if (this.init.plant || this.init.broker) {
      await serve(this.components.libp2p, PROTOCOLS.call, bidCallSchema, async (bidCall, { remotePeer }) => {
        const from = remotePeer.toString()
        if (bidCall.replyTo.peer !== from) {
          this.dropped(`call on ${PROTOCOLS.call}`, from, `call ${bidCall.requestId} asks for answers to ${bidCall.replyTo.peer} but comes from ${from}`)
          return { ack: true as const }
        }
        await this.handlers.inbox.deliver(this.init.broker ? { to: 'broker', type: 'bid.call', call: bidCall, from } : { to: 'plant', type: 'bid.call', call: bidCall, from })
        return { ack: true as const }
      }, { maxBytes: MAX_CALL_BYTES, maxInboundStreams: 256 })
    }
  }

  subscribe (): void {
    if (this.init.plant) this.pubsub.subscribe(this.plantTopic)
    if (this.init.broker && this.init.site !== undefined) {
      this.pubsub.subscribe(BID_TOPIC)
      this.pubsub.subscribe(siteOfferTopic(this.init.site))
    }
    if (this.init.shop) this.pubsub.subscribe(OFFER_TOPIC)
  }

  async stop (): Promise<void> {
    if (!this.listening) return
    this.listening = false
    this.pubsub.removeEventListener('message', this.onMessage)
    this.pubsub.removeEventListener('subscription-change', this.onSubscriptions)
    this.links.stop()
    await this.answers.close()
  }

  bidders (): string[] {
    return this.links.reachableOf(this.pubsub.getSubscribers(BID_TOPIC).map((p) => p.toString()))
  }

  siteBidders (site: string): string[] {
    return this.links.reachableOf(this.pubsub.getSubscribers(siteTopic(site)).map((p) => p.toString()))
  }

  /** calls gossip: flooded to the subscribers the caller is connected to, relayed by the mesh to the rest */
  async publishCall (bidCall: BidCall, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.pubsub.publish(BID_TOPIC, encodeJson(bidCall))
  }

  async publishSiteCall (site: string, bidCall: BidCall, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.pubsub.publish(siteTopic(site), encodeJson(bidCall))
  }

  async callPeers (peers: string[], bidCall: BidCall, options: AbortOptions = {}): Promise<string[]> {
    options.signal?.throwIfAborted()
    const libp2p = this.components.libp2p
    const unreachable: string[] = []
    await Promise.all(peers.map(async (peer) => {
      try {
        await call(libp2p, peerIdFromString(peer), PROTOCOLS.call, bidCall, ackSchema, { ...options, dialTimeoutMs: 3000 })
      } catch (err: unknown) {
        options.signal?.throwIfAborted()
        this.log('could not call %s for bids on %s: %s', peer, bidCall.requestId, errorMessage(err))
        unreachable.push(peer)
      }
    }))
    return unreachable
  }

  /**
   * An answer goes once, on the answers stream to the caller (opened on the first answer, and
   * dialled if the caller is no peer yet), bound there to this node's noise identity.
   */
  async answer (to: PeerRef, answer: BidAnswer, options: AbortOptions = {}): Promise<void> {
    await this.answers.send(to, answer, options)
  }

  private readonly onSubscriptions = (): void => { this.post({ to: 'shop', type: 'bidders.changed' }) }

  /** a command nobody answers, from an event handler: it only enters a mailbox */
  private post (command: Command): void {
    this.handlers.inbox.deliver(command).catch((err: unknown) => { this.log('could not deliver %s to the %s: %e', command.type, command.to, err) })
  }

  private readonly onMessage = (event: CustomEvent<PubsubMessage>): void => {
    const message = event.detail
    const { topic, data } = message
    // gossipsub signs every message and checks the signature, so `from` is who really published it
    const from = message.type === 'signed' ? message.from.toString() : undefined
    try {
      if (topic === this.plantTopic || topic === BID_TOPIC) {
        const bidCall = decodeJson(data, bidCallSchema, MAX_CALL_BYTES, `call on ${topic}`)
        if (from === undefined || bidCall.replyTo.peer !== from) throw new AuthError(`call ${bidCall.requestId} asks for answers to ${bidCall.replyTo.peer} but was published by ${from ?? 'nobody'}`)
        if (this.init.plant && topic === this.plantTopic) this.post({ to: 'plant', type: 'bid.call', call: bidCall, from })
        if (this.init.broker && topic === BID_TOPIC) this.post({ to: 'broker', type: 'bid.call', call: bidCall, from })
        return
      }
      if (this.answerTopics.includes(topic) && (this.init.shop || this.init.broker)) {
        const answer = decodeJson(data, bidAnswerSchema, MAX_ANSWER_BYTES, `answer on ${topic}`)
        this.acceptAnswer(answer, from, topic)
      }
    } catch (err: unknown) {
      this.dropped(`message on ${topic}`, from, errorMessage(err))
    }
  }

  /** an answer counts only from the bidder it names: the plant, or the broker that forwarded it */
  private acceptAnswer (answer: BidAnswer, from: string | undefined, where: string): void {
    const bidder = answerBidder(answer)
    if (bidder !== from) {
      this.dropped(`answer on ${where}`, from, `answer for ${answer.requestId} names ${bidder} but comes from ${from ?? 'nobody'}`)
      return
    }
    // a node with both roles gives the answer to both: each keeps only its own rounds' answers
    if (this.init.shop) this.post({ to: 'shop', type: 'bid.answer', answer, from })
    if (this.init.broker) this.post({ to: 'broker', type: 'bid.answer', answer, from })
  }

  private dropped (what: string, from: string | undefined, reason: string): void {
    this.log('dropped a %s from %s: %s', what, from, reason)
    this.handlers.onDropped?.(what, from, reason)
  }
}

export function bidsService (components: BidsComponents, init: BidsInit, handlers: BidsHandlers): BidsService {
  return new Bids(components, init, handlers)
}
