import type { ActorContext, Behavior, Reply } from '../runtime/index.js'
import {
  answerBidder, classadSchema, destroyResultSchema, vmidSchema, isBusy, BusyError, BUSY_PREFIX, NoBidsError,
  type Auth, type BidCall, type BidOffer, type CreateResult, type DomainCredential, type ListResult, type Order, type Transport, type VmRequest
} from '../../interface/index.js'
import { actionIdentity, validateSpec, type VmSpec } from '../../planner/index.js'
import { chooseAtRandom, rankOffers } from './select.js'
import { expectedBidders, noteRound, type Liveness } from './liveness.js'
import type { OrderOutcome, ShopMessage } from './messages.js'

export interface ShopComponents {
  transport: Transport
  /** how long a round waits for bids, in ms; @default 2000 */
  bidWindowMs: number
  /** how long one plant may take to produce a VM, in ms: the order's agreed expiry; @default 120000 */
  orderTimeoutMs: number
  /**
   * Power of d choices: call only this many bidders, drawn at random among the expected ones, on
   * streams of their own, instead of publishing the call to all. @default undefined (call all)
   */
  choices?: number | undefined
  /**
   * creates in flight (bidding or ordering) past which a create is refused at once with a
   * BusyError, rather than queued without bound. @default undefined (no bound: the simulator's
   * shop); a node's config gives 1024 (`shop.maxPendingCreates`)
   */
  maxPendingCreates?: number | undefined
}

export const SHOP_DEFAULTS = { bidWindowMs: 2000, orderTimeoutMs: 120_000 } as const

/** query and destroy take a plant well under a second; this bounds a plant that does not answer */
const FORWARD_TIMEOUT_MS = 30_000
const LIST_TIMEOUT_MS = 10_000
/** a plant that was unreachable when the shop gave up on its order is told again, this many times */
const CANCEL_ATTEMPTS = 8
const CANCEL_BACKOFF_MS = 1000
const CANCEL_BACKOFF_MAX_MS = 30_000
/** how long a round that waited for its first bidders waits once they appear */
const FIRST_BIDDERS_SETTLE_MS = 200

/** the client's credentials, passed through to the plant unchanged */
function credentialsOf (message: { credentials?: DomainCredential[] }): { credentials?: DomainCredential[] } {
  return message.credentials !== undefined ? { credentials: message.credentials } : {}
}

interface Round {
  call: BidCall
  rawSpec: unknown
  spec: VmSpec
  owner: string
  auth: Auth
  /** the client's domain credential, passed on to the plant, which checks it */
  credential?: DomainCredential
  /** waiting for the first bidders to appear: a shop that just started sees none yet */
  waiting: boolean
  /** bidders appeared; the round starts after FIRST_BIDDERS_SETTLE_MS */
  settling: boolean
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

export interface ShopState {
  rounds: Map<string, Round>
  liveness: Liveness
}

/**
 * The time a plant is given: less than the shop waits, so that a plant out of time says so
 * (and destroys the VM) before the shop stops listening.
 */
export function plantBudgetMs (orderTimeoutMs: number): number {
  return Math.max(1, orderTimeoutMs - Math.min(2000, Math.floor(orderTimeoutMs / 10)))
}

/** Plants never keep their VMs' shops in mind, and the shop keeps no VM: the VMID names the plant. */
export function plantOf (vmid: string): string {
  return vmidSchema.parse(vmid).slice(vmid.indexOf('.') + 1)
}

/**
 * The shop: one call for bids per create, the cheapest offer ordered first and the next ones
 * tried if it fails, each order an agreement that expires; a plant given up on is told to
 * cancel. Queries, destroys and lists go to the plants that hold the VMs.
 */
export function shopBehavior (components: ShopComponents): Behavior<ShopState, ShopMessage> {
  const { transport } = components
  const maxPendingCreates = components.maxPendingCreates ?? Infinity

  const startRound = (state: ShopState, round: Round, ctx: ActorContext<ShopMessage>): void => {
    round.waiting = false
    round.startedAt = ctx.clock.now()
    round.expected = expectedBidders(state.liveness, transport.bidders())
    const requestId = round.call.requestId
    const choices = components.choices
    const chosen = choices !== undefined && choices < round.expected.size ? chooseAtRandom([...round.expected].sort(), choices, ctx.random) : undefined
    if (chosen !== undefined) round.expected = new Set(chosen)
    ctx.log('round %s: calling %d %sbidders for %s', requestId, round.expected.size, chosen !== undefined ? 'chosen ' : '', round.call.domain)
    ctx.task((signal) => chosen !== undefined ? transport.callBidders(chosen, round.call, { signal }) : transport.publishCall(round.call, { signal }), (outcome) => ({ type: 'round.published', requestId, outcome }))
    ctx.task((signal) => ctx.clock.sleep(components.bidWindowMs, { signal }), () => ({ type: 'round.deadline', requestId }))
  }

  const close = (state: ShopState, round: Round, ctx: ActorContext<ShopMessage>): void => {
    if (round.closed) return
    round.closed = true
    round.biddingMs = ctx.clock.now() - round.startedAt
    noteRound(state.liveness, round.expected, round.answered)
    const requestId = round.call.requestId
    if (round.offers.length === 0) {
      state.rounds.delete(requestId)
      if (round.declines.length > 0 && round.declines.every((d) => d.reason.startsWith(BUSY_PREFIX))) {
        round.reply.reject(new BusyError(`every bidder for request ${requestId} is busy (${round.declines.map((d) => `${d.bidder.slice(-8)}: ${d.reason.slice(BUSY_PREFIX.length)}`).join('; ')})`))
        return
      }
      const why = round.declines.length > 0
        ? `; declined: ${round.declines.map((d) => `${d.bidder.slice(-8)}: ${d.reason}`).join('; ')}`
        : round.expected.size === 0 ? '; no plant or broker is connected to this shop' : `; ${round.expected.size} bidder(s) did not answer within ${round.call.windowMs} ms`
      round.reply.reject(new NoBidsError(`no plant bid for request ${requestId}${why}`))
      return
    }
    const { ranked, tie } = rankOffers(round.offers, ctx.random)
    round.ranked = ranked
    round.tie = tie
    ctx.task((signal) => orderInTurn(round, ctx, signal), (outcome) => ({ type: 'round.ordered', requestId, outcome }))
  }

  const orderInTurn = async (round: Round, ctx: ActorContext<ShopMessage>, signal: AbortSignal): Promise<OrderOutcome> => {
    const attempts: OrderOutcome['attempts'] = []
    // the client stopped waiting (its connection went, or its deadline passed): no VM is made for nobody
    const gone = round.reply.signal
    for (const offer of round.ranked) {
      if (gone.aborted) throw new NoBidsError(`request ${round.call.requestId}: the client stopped waiting; nothing was ordered`)
      const order: Order = {
        type: 'order.produce',
        requestId: round.call.requestId,
        spec: round.rawSpec,
        domain: round.call.domain,
        owner: round.owner,
        auth: round.auth,
        ...(round.credential !== undefined ? { credential: round.credential } : {}),
        biddingMs: round.biddingMs,
        cost: offer.cost,
        budgetMs: plantBudgetMs(components.orderTimeoutMs)
      }
      const deadline = ctx.clock.timeout(components.orderTimeoutMs)
      try {
        const classad = await transport.order(offer.plant, order, { signal: AbortSignal.any([signal, deadline, gone]) })
        attempts.push({ plant: offer.plant.peer })
        return { classad, attempts }
      } catch (err: any) {
        // whatever the plant did, the agreement is off: it must not keep a VM nobody will know of.
        // A plant that answered "busy" reserved nothing, so there is nothing to cancel.
        if (!isBusy(err)) ctx.self.send({ type: 'order.abandoned', plant: offer.plant, requestId: round.call.requestId })
        signal.throwIfAborted()
        if (gone.aborted) throw new NoBidsError(`request ${round.call.requestId}: the client stopped waiting; the order to ${offer.plant.peer} was cancelled`)
        const error = deadline.aborted ? `no VM within the order's ${components.orderTimeoutMs} ms; the order was cancelled` : err?.message ?? String(err)
        attempts.push({ plant: offer.plant.peer, error })
      }
    }
    const failures = attempts.map((a) => `${a.plant.slice(-8)}: ${a.error}`).join('; ')
    if (attempts.every((a) => a.error?.startsWith(BUSY_PREFIX) === true)) throw new BusyError(`every plant that bid is busy (${failures})`)
    throw new NoBidsError(`every plant that bid failed: ${failures}`)
  }

  const forward = (ctx: ActorContext<ShopMessage>, reply: Reply<any>, plant: string, request: VmRequest, parse: (v: unknown) => unknown): void => {
    ctx.task(async (signal) => parse(await transport.vmRequest(plant, request, { signal: AbortSignal.any([signal, ctx.clock.timeout(FORWARD_TIMEOUT_MS)]) })),
      (outcome) => ({ type: 'forward.done', outcome, reply }))
  }

  const sendCancel = (ctx: ActorContext<ShopMessage>, plant: BidOffer['plant'], requestId: string, attempt: number): void => {
    ctx.task((signal) => transport.cancel(plant, requestId, { signal: AbortSignal.any([signal, ctx.clock.timeout(FORWARD_TIMEOUT_MS)]) }),
      (outcome) => ({ type: 'cancel.sent', plant, requestId, attempt, outcome }))
  }

  return {
    init: () => ({ rounds: new Map(), liveness: new Map() }),

    receive (state, message, ctx) {
      const { rounds } = state
      switch (message.type) {
        case 'client.create': {
          if (rounds.size >= maxPendingCreates) {
            ctx.log('refused a create from %s: %d creates in flight', message.owner, rounds.size)
            message.reply.reject(new BusyError(`the shop has ${rounds.size} creates in flight, its limit (shop.maxPendingCreates)`))
            return state
          }
          let spec: VmSpec
          try {
            spec = validateSpec(message.spec)
          } catch (err) {
            // the client's mistake is answered, not counted as the shop's failure
            message.reply.reject(err as Error)
            return state
          }
          const requestId = `r-${ctx.random.hex(12)}`
          const call: BidCall = {
            type: 'bid.call',
            requestId,
            replyTo: transport.self(),
            hardware: spec.hardware,
            domain: message.domain,
            ...(message.credential !== undefined ? { domainKey: message.credential.key } : {}),
            actionCount: spec.actions.length,
            dag: spec.actions.map((a) => ({ id: a.id, identity: actionIdentity(a), after: a.after })),
            windowMs: components.bidWindowMs
          }
          const round: Round = { call, rawSpec: message.spec, spec, owner: message.owner, auth: message.auth, ...(message.credential !== undefined ? { credential: message.credential } : {}), waiting: true, settling: false, startedAt: ctx.clock.now(), expected: new Set(), offers: [], declines: [], answered: new Set(), closed: false, biddingMs: 0, ranked: [], tie: false, reply: message.reply }
          rounds.set(requestId, round)
          if (transport.bidders().length > 0) startRound(state, round, ctx)
          else {
            // just started: gossip has not told the shop of its bidders yet; wait for them, briefly
            ctx.log('round %s: no bidder known yet, waiting up to %d ms', requestId, components.bidWindowMs)
            ctx.task((signal) => ctx.clock.sleep(components.bidWindowMs, { signal }), () => ({ type: 'round.start', requestId }))
          }
          return state
        }
        case 'bidders.changed': {
          if (transport.bidders().length === 0) return state
          // a subscription arrives before gossipsub's stream back to that peer may be open: a call
          // published at once could miss it, so the waiting rounds start a moment later
          for (const round of rounds.values()) {
            if (!round.waiting || round.settling) continue
            round.settling = true
            const requestId = round.call.requestId
            ctx.task((signal) => ctx.clock.sleep(FIRST_BIDDERS_SETTLE_MS, { signal }), () => ({ type: 'round.start', requestId }))
          }
          return state
        }
        case 'round.start': {
          const round = rounds.get(message.requestId)
          if (round?.waiting === true) startRound(state, round, ctx)
          return state
        }
        case 'round.published': {
          const round = rounds.get(message.requestId)
          if (round !== undefined && !message.outcome.ok) {
            rounds.delete(message.requestId)
            round.closed = true
            round.reply.reject(new NoBidsError(`could not publish the call for bids: ${message.outcome.error.message}`))
          }
          return state
        }
        case 'bid.answer': {
          const { answer } = message
          const bidder = answerBidder(answer)
          // even a late answer shows the bidder is alive again
          state.liveness.set(bidder, { misses: 0 })
          const round = rounds.get(answer.requestId)
          if (round === undefined || round.closed || round.waiting) return state
          if (round.answered.has(bidder)) return state
          round.answered.add(bidder)
          if (answer.type === 'bid.offer') round.offers.push(answer)
          else round.declines.push({ bidder: answer.bidder, reason: answer.reason })
          if (round.expected.size > 0 && [...round.expected].every((peer) => round.answered.has(peer))) close(state, round, ctx)
          return state
        }
        case 'round.deadline': {
          const round = rounds.get(message.requestId)
          if (round !== undefined) close(state, round, ctx)
          return state
        }
        case 'round.ordered': {
          const round = rounds.get(message.requestId)
          rounds.delete(message.requestId)
          if (round === undefined) return state
          if (!message.outcome.ok) {
            round.reply.reject(message.outcome.error)
            return state
          }
          const { classad, attempts } = message.outcome.value
          if (round.reply.signal.aborted) {
            // made, but the client is gone and will never learn its VMID: the plant destroys it
            ctx.log('round %s: the client stopped waiting; telling %s to destroy %s', message.requestId, classad.plant, classad.vmid)
            const offer = round.ranked.find((o) => o.plant.peer === classad.plant)
            if (offer !== undefined) sendCancel(ctx, offer.plant, message.requestId, 1)
            return state
          }
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
          return state
        }
        case 'order.abandoned': {
          ctx.log('round %s: telling %s to cancel', message.requestId, message.plant.peer)
          sendCancel(ctx, message.plant, message.requestId, 1)
          return state
        }
        case 'cancel.sent': {
          if (message.outcome.ok) return state
          if (message.attempt >= CANCEL_ATTEMPTS) {
            ctx.log.error('round %s: plant %s did not take the cancel after %d attempts: %s', message.requestId, message.plant.peer, message.attempt, message.outcome.error.message)
            return state
          }
          const { plant, requestId, attempt } = message
          const delay = Math.min(CANCEL_BACKOFF_MAX_MS, CANCEL_BACKOFF_MS * 2 ** (attempt - 1))
          ctx.task((signal) => ctx.clock.sleep(delay, { signal }), () => ({ type: 'cancel.retry', plant, requestId, attempt: attempt + 1 }))
          return state
        }
        case 'cancel.retry': {
          sendCancel(ctx, message.plant, message.requestId, message.attempt)
          return state
        }
        case 'client.query': {
          forward(ctx, message.reply, plantOf(message.vmid), { type: 'vm.query', vmid: message.vmid, auth: message.auth, ...credentialsOf(message) }, (v) => classadSchema.parse(v))
          return state
        }
        case 'client.destroy': {
          forward(ctx, message.reply, plantOf(message.vmid), { type: 'vm.destroy', vmid: message.vmid, auth: message.auth, ...credentialsOf(message) }, (v) => destroyResultSchema.parse(v))
          return state
        }
        case 'client.list': {
          const { auth, reply } = message
          const credentials = credentialsOf(message)
          ctx.task(async (signal) => {
            const plants = await transport.plants({ signal })
            const answers = await Promise.allSettled(plants.map(async (plant) => transport.vmRequest(plant, { type: 'vm.list', auth, ...credentials }, { signal: AbortSignal.any([signal, ctx.clock.timeout(LIST_TIMEOUT_MS)]) })))
            const result: ListResult = { vms: [], unreachable: [] }
            answers.forEach((answer, i) => {
              if (answer.status === 'fulfilled' && Array.isArray(answer.value)) result.vms.push(...answer.value.map((v) => classadSchema.parse(v)))
              else result.unreachable.push(plants[i] as string)
            })
            result.vms.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
            return result
          }, (outcome) => ({ type: 'forward.done', outcome, reply }))
          return state
        }
        case 'forward.done': {
          if (message.outcome.ok) message.reply.resolve(message.outcome.value)
          else message.reply.reject(message.outcome.error)
          return state
        }
        default: {
          const unknown: never = message
          throw new Error(`shop got an unknown message ${(unknown as { type: string }).type}`)
        }
      }
    },

    stop (state) {
      for (const round of state.rounds.values()) round.reply.reject(new Error('shop is stopping'))
      state.rounds.clear()
    }
  }
}
