import type { ActorContext, Behavior } from '../runtime/index.js'
import type { Transport } from '../transport.js'
import type { BidCall, BidOffer, CreateResult, ListResult, Order, VmRequest } from '../../net/wire.js'
import { vmidSchema, classadSchema, destroyResultSchema } from '../../net/wire.js'
import { actionIdentity, type VmSpec } from '../../planner/index.js'
import { NoBidsError } from '../errors.js'
import { rankOffers } from './select.js'
import type { OrderOutcome, ShopMessage } from './messages.js'
import type { Reply } from '../runtime/index.js'

export interface ShopComponents {
  transport: Transport
  /** how long a round waits for bids, in ms; @default 2000 */
  bidWindowMs: number
  /** how long one plant may take to produce a VM, in ms; @default 120000 */
  orderTimeoutMs: number
}

export const SHOP_DEFAULTS = { bidWindowMs: 2000, orderTimeoutMs: 120_000 } as const

/** query and destroy take a plant well under a second; this bounds a plant that does not answer */
const FORWARD_TIMEOUT_MS = 30_000

interface Round {
  call: BidCall
  spec: VmSpec
  owner: string
  startedAt: number
  expected: Set<string>
  offers: BidOffer[]
  declines: Array<{ bidder: string, reason: string }>
  answered: Set<string>
  closed: boolean
  biddingMs: number
  ranked: BidOffer[]
  tie: boolean
  reply: Reply<CreateResult>
}

/** Plants never keep their VMs' shops in mind, and the shop keeps no VM: the VMID names the plant. */
export function plantOf (vmid: string): string {
  return vmidSchema.parse(vmid).slice(vmid.indexOf('.') + 1)
}

/**
 * The shop: one call for bids per create, the cheapest offer ordered first and the next ones
 * tried if it fails; queries, destroys and lists forwarded to the plants that hold the VMs.
 */
export function shopBehavior (components: ShopComponents): Behavior<Map<string, Round>, ShopMessage> {
  const { transport } = components

  const close = (rounds: Map<string, Round>, round: Round, ctx: ActorContext<ShopMessage>): void => {
    if (round.closed) return
    round.closed = true
    round.biddingMs = ctx.clock.now() - round.startedAt
    const requestId = round.call.requestId
    if (round.offers.length === 0) {
      rounds.delete(requestId)
      const why = round.declines.length > 0
        ? `; declined: ${round.declines.map((d) => `${d.bidder.slice(-8)}: ${d.reason}`).join('; ')}`
        : round.expected.size === 0 ? '; no plant or broker is connected to this shop' : `; ${round.expected.size} bidder(s) did not answer within ${round.call.windowMs} ms`
      round.reply.reject(new NoBidsError(`no plant bid for request ${requestId}${why}`))
      return
    }
    const { ranked, tie } = rankOffers(round.offers, ctx.random)
    round.ranked = ranked
    round.tie = tie
    ctx.task((signal) => orderInTurn(round, signal), (outcome) => ({ type: 'round.ordered', requestId, outcome }))
  }

  const orderInTurn = async (round: Round, signal: AbortSignal): Promise<OrderOutcome> => {
    const attempts: OrderOutcome['attempts'] = []
    for (const offer of round.ranked) {
      const order: Order = { type: 'order.produce', requestId: round.call.requestId, spec: round.spec, domain: round.call.domain, owner: round.owner, biddingMs: round.biddingMs, cost: offer.cost }
      try {
        const classad = await transport.order(offer.plant, order, { signal: AbortSignal.any([signal, AbortSignal.timeout(components.orderTimeoutMs)]) })
        attempts.push({ plant: offer.plant.peer })
        return { classad, attempts }
      } catch (err: any) {
        signal.throwIfAborted()
        attempts.push({ plant: offer.plant.peer, error: err?.message ?? String(err) })
      }
    }
    throw new NoBidsError(`every plant that bid failed: ${attempts.map((a) => `${a.plant.slice(-8)}: ${a.error}`).join('; ')}`)
  }

  const forward = (ctx: ActorContext<ShopMessage>, reply: Reply<any>, plant: string, request: VmRequest, parse: (v: unknown) => unknown): void => {
    ctx.task(async (signal) => parse(await transport.vmRequest(plant, request, { signal: AbortSignal.any([signal, AbortSignal.timeout(FORWARD_TIMEOUT_MS)]) })),
      (outcome) => ({ type: 'forward.done', outcome, reply }))
  }

  return {
    init: () => new Map<string, Round>(),

    receive (rounds, message, ctx) {
      switch (message.type) {
        case 'client.create': {
          const requestId = `r-${ctx.random.hex(12)}`
          const call: BidCall = {
            type: 'bid.call',
            requestId,
            replyTo: transport.self(),
            hardware: message.spec.hardware,
            domain: message.domain,
            actionCount: message.spec.actions.length,
            dag: message.spec.actions.map((a) => ({ id: a.id, identity: actionIdentity(a), after: a.after })),
            windowMs: components.bidWindowMs
          }
          const expected = new Set(transport.bidders())
          rounds.set(requestId, { call, spec: message.spec, owner: message.owner, startedAt: ctx.clock.now(), expected, offers: [], declines: [], answered: new Set(), closed: false, biddingMs: 0, ranked: [], tie: false, reply: message.reply })
          ctx.log('round %s: calling %d bidders for %s', requestId, expected.size, message.domain)
          ctx.task((signal) => transport.publishCall(call, { signal }), (outcome) => ({ type: 'round.published', requestId, outcome }))
          ctx.task((signal) => ctx.clock.sleep(components.bidWindowMs, { signal }), () => ({ type: 'round.deadline', requestId }))
          return rounds
        }
        case 'round.published': {
          const round = rounds.get(message.requestId)
          if (round !== undefined && !message.outcome.ok) {
            rounds.delete(message.requestId)
            round.closed = true
            round.reply.reject(new NoBidsError(`could not publish the call for bids: ${message.outcome.error.message}`))
          }
          return rounds
        }
        case 'bid.answer': {
          const { answer } = message
          const round = rounds.get(answer.requestId)
          if (round === undefined || round.closed) return rounds
          const bidder = answer.type === 'bid.offer' ? (answer.via ?? answer.plant.peer) : answer.bidder
          if (round.answered.has(bidder)) return rounds
          round.answered.add(bidder)
          if (answer.type === 'bid.offer') round.offers.push(answer)
          else round.declines.push({ bidder: answer.bidder, reason: answer.reason })
          if ([...round.expected].every((peer) => round.answered.has(peer)) && round.expected.size > 0) close(rounds, round, ctx)
          return rounds
        }
        case 'round.deadline': {
          const round = rounds.get(message.requestId)
          if (round !== undefined) close(rounds, round, ctx)
          return rounds
        }
        case 'round.ordered': {
          const round = rounds.get(message.requestId)
          rounds.delete(message.requestId)
          if (round === undefined) return rounds
          if (!message.outcome.ok) {
            round.reply.reject(message.outcome.error)
            return rounds
          }
          const { classad, attempts } = message.outcome.value
          round.reply.resolve({
            classad,
            bidding: {
              requestId: message.requestId,
              expected: round.expected.size,
              answered: round.answered.size,
              offers: round.ranked.map((o) => ({ plant: o.plant.peer, cost: o.cost, reason: o.reason, ...(o.via !== undefined ? { via: o.via } : {}) })),
              declines: round.declines,
              attempts,
              chosen: classad.plant,
              tie: round.tie
            }
          })
          return rounds
        }
        case 'client.query': {
          forward(ctx, message.reply, plantOf(message.vmid), { type: 'vm.query', vmid: message.vmid, auth: message.auth }, (v) => classadSchema.parse(v))
          return rounds
        }
        case 'client.destroy': {
          forward(ctx, message.reply, plantOf(message.vmid), { type: 'vm.destroy', vmid: message.vmid, auth: message.auth }, (v) => destroyResultSchema.parse(v))
          return rounds
        }
        case 'client.list': {
          const { auth, reply } = message
          ctx.task(async (signal) => {
            const plants = await transport.plants()
            const answers = await Promise.allSettled(plants.map(async (plant) => transport.vmRequest(plant, { type: 'vm.list', auth }, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })))
            const result: ListResult = { vms: [], unreachable: [] }
            answers.forEach((answer, i) => {
              if (answer.status === 'fulfilled' && Array.isArray(answer.value)) result.vms.push(...answer.value.map((v) => classadSchema.parse(v)))
              else result.unreachable.push(plants[i] as string)
            })
            result.vms.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
            return result
          }, (outcome) => ({ type: 'forward.done', outcome, reply }))
          return rounds
        }
        case 'forward.done': {
          if (message.outcome.ok) message.reply.resolve(message.outcome.value)
          else message.reply.reject(message.outcome.error)
          return rounds
        }
        default: {
          const unknown: never = message
          throw new Error(`shop got an unknown message ${(unknown as { type: string }).type}`)
        }
      }
    },

    stop (rounds) {
      for (const round of rounds.values()) round.reply.reject(new Error('shop is stopping'))
      rounds.clear()
    }
  }
}
