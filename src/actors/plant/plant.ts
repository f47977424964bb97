import type { ActorContext, Behavior } from '../runtime/index.js'
import {
  domainIdOf, hardwareProblem, BusyError, BUSY_PREFIX, OrderExpiredError, OrderRefusedError, VmNotFoundError, AuthError, ImageNotFoundError,
  type BidAnswer, type HostNetworks, type PlantStore, type ProductionLine, type Transport
} from '../../interface/index.js'
import { InvalidSpecError, isHostAction, validateSpec } from '../../planner/index.js'
import { learnAfter, readWarehouse, type GoldenImages, type LearningConfig } from '../../images/index.js'
import { classadOf } from './classad.js'
import { priceCall, type CostConfig, type CostModel, type ImageFetchConfig } from '../../pricing/index.js'
import { produce } from './production.js'
import { productionSteps } from './progress.js'
import { imageFit } from './image-fit.js'
import { reconcile } from './reconcile.js'
import { settle, type PlantMessage } from './messages.js'
import type { Faults } from './ports.js'
import { allocateNetwork, domainInUse, forgetOldCalls, orderDomain, plantLoad, type HeldNetwork, type PlantState, type Production } from './plant-state.js'
import { attachmentFor, networkClassad, networkNamer, releaseBridge, startNetworks, usesNetworks } from './networks.js'
import { LoadReporter, reportingLoad, type LoadReportConfig } from './load-report.js'
import { vmRecordHandler } from './vm-records.js'

export interface PlantComponents {
  line: ProductionLine
  store: PlantStore
  /** the plant's golden images: its warehouse's catalogue and, in the daemon, its peers' on the DHT */
  images: GoldenImages
  transport: Transport
  cost: CostModel
  limits: Pick<CostConfig, 'maxNetworks'>
  /** host memory the plant may give to VMs, in MB */
  memoryCapacityMB: number
  /** what the host has free now, in MB (the daemon reads /proc/meminfo); absent in the simulator */
  hostFreeMB?: () => number
  /** learning golden images from repeated action prefixes; off when absent */
  learning?: LearningConfig
  /**
   * with `images.peers`: a bid of a plant without an admissible image looks for a peer's and prices its
   * transfer; absent: such a bid charges `noImageCost` (a broker's estimates know no peer images)
   */
  imageFetch?: ImageFetchConfig
  /** fault injection for tests; absent in production */
  faults?: Faults
  /** how long an answered call is remembered, so that an order naming it is accepted; @default 600000 */
  callMemoryMs?: number
  /** the host's side of domain networks (bridges); absent: networks are modelled (the simulator) */
  hostNetworks?: HostNetworks
  /** load reports to the site's broker; absent for a plant that answers the shop itself */
  loadReport?: LoadReportConfig
  /**
   * orders in production past which the plant declines calls and refuses orders as busy (a
   * BusyError), rather than starting more work at once than its line can carry. @default
   * undefined (no bound: the simulator's plants); a node's config gives 64 (`plant.maxQueuedOrders`)
   */
  maxQueuedOrders?: number | undefined
}

const DEFAULT_CALL_MEMORY_MS = 10 * 60_000

/**
 * The plant: prices calls for bids, produces VMs on its production line as agreements that
 * expire, and answers for the VMs it holds. Its store holds the one record of each VM; its
 * state is rebuilt from the store (held against the line) on every (re)start. All I/O runs as
 * tasks, so the mailbox never waits on the disk or the hypervisor.
 */
export function plantBehavior (components: PlantComponents): Behavior<PlantState, PlantMessage> {
  const { line, store, images, transport, faults } = components
  const warehouse = images.catalog
  /** prefixes being learned right now, so that two productions do not build the same image */
  const learning = new Set<string>()
  const callMemoryMs = components.callMemoryMs ?? DEFAULT_CALL_MEMORY_MS
  const maxQueuedOrders = components.maxQueuedOrders ?? Infinity

  const vmRecords = vmRecordHandler(components)
  const load = (state: PlantState) => plantLoad(state, line, components.memoryCapacityMB, components.hostFreeMB)
  const self = () => transport.self().peer
  /** why the plant takes no more orders now, or undefined */
  const busy = (state: PlantState): string | undefined => state.productions.size >= maxQueuedOrders
    ? `plant ${self()} has ${state.productions.size} orders in production, its limit (plant.maxQueuedOrders)`
    : undefined

  const background = (ctx: ActorContext<PlantMessage>, what: string, work: (signal: AbortSignal) => Promise<unknown>): void => {
    ctx.task(work, (outcome) => ({ type: 'background.done', what, outcome }))
  }

  /** Ends a production that will not deliver: the VM is destroyed (by produce, or here), the reservation freed. */
  const release = (state: PlantState, production: Production, ctx: ActorContext<PlantMessage>): void => {
    state.productions.delete(production.vmid)
    const domain = orderDomain(production.order)
    const network = state.networks.get(domain)
    if (network !== undefined && !network.committed && !domainInUse(state, domain, production.vmid)) {
      state.networks.delete(domain)
      background(ctx, `removing ${network.allocation.name}`, (signal) => releaseBridge(state.network, components.hostNetworks, network.allocation.index, { signal }))
    }
  }

  /** Destroys a committed VM and then its record; `reply` is answered once the record is gone. */
  const destroyVm = (ctx: ActorContext<PlantMessage>, vmid: string, reply?: Extract<PlantMessage, { type: 'vm.destroy' }>['reply']): void => {
    ctx.task((signal) => line.destroy(vmid, { signal }), (outcome) => ({ type: 'destroy.done', vmid, outcome, ...(reply !== undefined ? { reply } : {}) }))
  }

  const refuse = (ctx: ActorContext<PlantMessage>, reply: { reject: (e: Error) => void }, error: Error): void => {
    ctx.log('refused an order: %s', error.message)
    reply.reject(error)
  }

  const transition = (state: PlantState, message: PlantMessage, ctx: ActorContext<PlantMessage>): PlantState => {
    switch (message.type) {
      case 'bid.call': {
        const { call } = message
        const now = ctx.clock.now()
        forgetOldCalls(state, now, callMemoryMs)
        // an order may name the shop's request when a broker republished the call
        state.calls.set(call.requestId, { caller: message.from, at: now })
        if (call.origin !== undefined) state.calls.set(call.origin.requestId, { caller: call.origin.caller, at: now })
        const peers = images.peers !== undefined && components.imageFetch !== undefined ? { images: images.peers, config: components.imageFetch, clock: ctx.clock } : undefined
        ctx.task(async (signal) => await imageFit(warehouse, line.kind, call, peers, { signal }), (outcome) => ({ type: 'bid.priced', call, outcome }))
        return state
      }
      case 'bid.priced': {
        const { call, outcome } = message
        const fit = outcome.ok ? outcome.value : {}
        const overloaded = busy(state)
        const verdict = overloaded !== undefined
          ? { bid: false as const, reason: `${BUSY_PREFIX}${overloaded}` }
          : priceCall({ lineKind: line.kind, capabilities: line.capabilities(), memoryCostMB: (m) => line.memoryCostMB(m), cost: components.cost, load: load(state) }, call, fit)
        const me = transport.self()
        const answer: BidAnswer = verdict.bid
          ? { type: 'bid.offer', requestId: call.requestId, plant: me, cost: verdict.cost, reason: verdict.reason }
          : { type: 'bid.decline', requestId: call.requestId, bidder: me.peer, reason: verdict.reason }
        ctx.task((signal) => transport.answer(call.replyTo, answer, { signal }), (sent) => ({ type: 'bid.sent', requestId: call.requestId, outcome: sent }))
        return state
      }
      case 'bid.sent': {
        if (!message.outcome.ok) ctx.log('could not answer call %s: %s', message.requestId, message.outcome.error.message)
        else faults?.hit('after-bid')
        return state
      }
      case 'order.produce': {
        const { order, from, reply } = message
        const caller = state.calls.get(order.requestId)?.caller
        if (caller !== from) {
          refuse(ctx, reply, new OrderRefusedError(`order ${order.requestId} comes from ${from}, which did not call plant ${self()} for bids`))
          return state
        }
        if ([...state.productions.values()].some((p) => p.order.requestId === order.requestId) || [...state.vms.values()].some((v) => v.requestId === order.requestId)) {
          refuse(ctx, reply, new OrderRefusedError(`order ${order.requestId} is already taken by plant ${self()}`))
          return state
        }
        const overloaded = busy(state)
        if (overloaded !== undefined) {
          refuse(ctx, reply, new BusyError(overloaded))
          return state
        }
        const spec = validateSpec(order.spec)
        const caps = line.capabilities()
        const problem = hardwareProblem(caps, line.kind, spec.hardware) ??
          spec.actions.filter(isHostAction).map((a) => caps.hostActions.includes(a.host.attach) ? undefined : `the ${line.kind} line cannot attach ${a.host.attach} (action ${a.id})`).find((p) => p !== undefined)
        if (problem !== undefined) {
          refuse(ctx, reply, new OrderRefusedError(`plant ${self()} refuses: ${problem}`))
          return state
        }
        const memoryMB = line.memoryCostMB(spec.hardware.memoryMB)
        const domain = orderDomain(order)
        const verdict = components.cost(load(state), { domain, memoryMB })
        if (!verdict.bid) {
          refuse(ctx, reply, new OrderRefusedError(`plant ${self()} refuses: ${verdict.reason}`))
          return state
        }
        const vmid = `vm-${ctx.random.hex(8)}.${self()}`
        const production: Production = { vmid, order, spec, orderedBy: from, memoryMB, phase: 'producing', abort: new AbortController(), reply }
        state.productions.set(vmid, production)
        const mode = state.network
        if (usesNetworks(mode) && !state.networks.has(domain)) state.networks.set(domain, { allocation: allocateNetwork(state, domain, components.limits.maxNetworks, ctx.clock.now(), networkNamer(mode, components.hostNetworks)), committed: false })
        ctx.log('producing %s for %s in domain %s, due in %d ms', vmid, order.owner, order.domain, order.budgetMs)
        const parts = {
          line, images, clock: ctx.clock, faults,
          attach: attachmentFor(mode, components.hostNetworks, state.networks.get(domain)?.allocation, vmid),
          networkless: mode.kind === 'bridge' ? undefined : mode.kind === 'none' ? mode.detail : 'its networks are modelled only',
          progress: message.progress !== undefined ? productionSteps(message.progress, ctx.clock) : undefined
        }
        ctx.task((signal) => produce(parts, vmid, spec, AbortSignal.any([signal, production.abort.signal])), (outcome) => ({ type: 'production.done', vmid, outcome }))
        ctx.task((signal) => ctx.clock.sleep(order.budgetMs, { signal: AbortSignal.any([signal, production.abort.signal]) }), () => ({ type: 'order.expired', vmid }))
        return state
      }
      case 'order.expired': {
        const production = state.productions.get(message.vmid)
        if (production !== undefined && production.ended === undefined) endProduction(production, new OrderExpiredError(`order ${production.order.requestId} expired after ${production.order.budgetMs} ms before ${production.vmid} was ready; the VM was destroyed`))
        return state
      }
      case 'order.cancel': {
        const { requestId, from } = message
        const production = [...state.productions.values()].find((p) => p.order.requestId === requestId)
        if (production !== undefined) {
          if (production.orderedBy !== from) ctx.log('ignored a cancel of %s from %s, which did not order it', requestId, from)
          else if (production.ended === undefined) endProduction(production, new OrderExpiredError(`order ${requestId} was cancelled by the shop; ${production.vmid} was destroyed`))
          return state
        }
        const held = [...state.vms.entries()].find(([, vm]) => vm.requestId === requestId)
        if (held === undefined) return state
        if (held[1].orderedBy !== from) {
          ctx.log('ignored a cancel of %s from %s, which did not order it', requestId, from)
          return state
        }
        ctx.log('order %s cancelled after delivery: destroying %s', requestId, held[0])
        destroyVm(ctx, held[0])
        return state
      }
      case 'production.done': {
        const { vmid, outcome } = message
        const production = state.productions.get(vmid)
        if (production === undefined) {
          // the actor restarted while this ran: nobody waits for the VM any more
          if (outcome.ok) background(ctx, `destroying unclaimed ${vmid}`, (signal) => line.destroy(vmid, { signal }))
          return state
        }
        if (!outcome.ok || production.ended !== undefined) {
          release(state, production, ctx)
          if (outcome.ok) background(ctx, `destroying ${vmid}`, (signal) => line.destroy(vmid, { signal }))
          const error = production.ended ?? (outcome.ok ? new OrderExpiredError('order ended') : outcome.error)
          ctx.log.error('production of %s failed: %s', vmid, error.message)
          production.reply.reject(error)
          return state
        }
        faults?.hit('before-commit')
        const network: HeldNetwork | undefined = state.networks.get(orderDomain(production.order))
        const classad = classadOf(production, outcome.value, { plant: self(), line: line.kind, now: ctx.clock.now(), network: networkClassad(state.network, network?.allocation) })
        production.phase = 'committing'
        const record = { classad, handle: outcome.value.handle, requestId: production.order.requestId, orderedBy: production.orderedBy }
        const newNetwork = network === undefined || network.committed ? undefined : network.allocation
        ctx.task((signal) => store.commitVm(record, newNetwork, { signal }), (committed) => ({ type: 'commit.done', vmid, classad, outcome: committed }))
        return state
      }
      case 'commit.done': {
        const { vmid, classad, outcome } = message
        const production = state.productions.get(vmid)
        if (production === undefined) {
          // the actor restarted while the record was written: nobody waits for the VM any more
          if (outcome.ok) destroyVm(ctx, vmid)
          else background(ctx, `destroying unclaimed ${vmid}`, (signal) => line.destroy(vmid, { signal }))
          return state
        }
        if (!outcome.ok) {
          release(state, production, ctx)
          background(ctx, `destroying ${vmid}`, (signal) => line.destroy(vmid, { signal }))
          production.reply.reject(outcome.error)
          return state
        }
        state.productions.delete(vmid)
        state.vms.set(vmid, { domain: orderDomain(production.order), memoryMB: production.memoryMB, requestId: production.order.requestId, orderedBy: production.orderedBy })
        const network = state.networks.get(orderDomain(production.order))
        if (network !== undefined) network.committed = true
        if (production.ended !== undefined) {
          destroyVm(ctx, vmid)
          production.reply.reject(production.ended)
          return state
        }
        faults?.hit('after-commit')
        production.reply.resolve(classad)
        const learningConfig = components.learning
        if (learningConfig !== undefined) ctx.task((signal) => learnAfter({ line, store, warehouse, announce: images.announce, learning }, learningConfig, production.spec, () => ctx.clock.now(), signal), (learned) => ({ type: 'learning.done', outcome: learned }))
        return state
      }
      case 'vm.query': case 'query.done': case 'vm.destroy': case 'destroy.done': case 'record.removed': case 'vm.list':
        return vmRecords(state, message, ctx)
      case 'warehouse.read': {
        const { request, reply } = message
        ctx.task(async () => await readWarehouse(warehouse, line.kind, request), (outcome) => settle(reply, outcome))
        return state
      }
      case 'plant.status': {
        message.reply.resolve({ vms: state.vms.size, producing: state.productions.size, networks: state.networks.size, networkMode: state.network.kind === 'model' ? 'model' : `${state.network.kind}: ${state.network.detail}`, reconciled: { ...state.reconciled } })
        return state
      }
      case 'learning.done': {
        if (!message.outcome.ok) ctx.log.error('learning a golden image failed: %s', message.outcome.error.message)
        else if (message.outcome.value.learned !== undefined || message.outcome.value.evicted.length > 0) ctx.log('learned %s, evicted %s', message.outcome.value.learned ?? 'nothing', message.outcome.value.evicted.join(', ') || 'nothing')
        return state
      }
      case 'task.reply': {
        if (message.outcome.ok) message.reply.resolve(message.outcome.value)
        else message.reply.reject(message.outcome.error)
        return state
      }
      // reportingLoad takes these before the plant sees them
      case 'load.heartbeat': case 'load.wanted': case 'load.sent': return state
      case 'background.done': {
        if (!message.outcome.ok) ctx.log.error('%s failed: %s', message.what, message.outcome.error.message)
        return state
      }
      default: {
        const unknown: never = message
        throw new Error(`plant got an unknown message ${(unknown as { type: string }).type}`)
      }
    }
  }

  const behavior: Behavior<PlantState, PlantMessage> = {
    async init (ctx) {
      const { result, live } = await reconcile(line, store, ctx.log)
      const network = await startNetworks({ line, store, hostNetworks: components.hostNetworks }, ctx.log)
      const state: PlantState = { productions: new Map(), vms: new Map(), networks: new Map(), calls: new Map(), reconciled: result, network }
      for (const allocation of await store.listNetworks()) state.networks.set(allocation.domain, { allocation, committed: true })
      const records = new Map((await store.listVms()).map((r) => [r.classad.vmid, r]))
      for (const classad of live) {
        const record = records.get(classad.vmid)
        state.vms.set(classad.vmid, { domain: domainIdOf(classad.domain, classad.domainKey), memoryMB: line.memoryCostMB(classad.memoryMB), requestId: record?.requestId ?? '', orderedBy: record?.orderedBy ?? '' })
      }
      // the warm pool is filled for the images the plant holds, not only after a first clone
      background(ctx, 'warming the line', async (signal) => await line.warm((await warehouse.list()).filter((r) => r.golden.line === line.kind).map((r) => r.golden), { signal }))
      return state
    },

    receive (state, message, ctx) {
      try {
        return transition(state, message, ctx)
      } catch (err) {
        // a client's mistake is answered, not treated as the plant's failure
        if ('reply' in message && message.reply !== undefined && isClientError(err)) {
          message.reply.reject(err as Error)
          return state
        }
        throw err
      }
    }
  }
  if (components.loadReport === undefined) return behavior
  const reporter = new LoadReporter({ line, warehouse, transport, hostFreeMB: components.hostFreeMB }, components.loadReport)
  return reportingLoad(behavior, reporter, (state) => plantLoad(state, line, components.memoryCapacityMB))
}

/** Aborts a production; its task destroys the half-made VM and reports, then the order is answered. */
function endProduction (production: Production, reason: Error): void {
  production.ended = reason
  if (production.phase === 'producing') production.abort.abort(reason)
}

function isClientError (err: unknown): boolean {
  return err instanceof ImageNotFoundError || err instanceof VmNotFoundError || err instanceof AuthError || err instanceof InvalidSpecError || err instanceof OrderRefusedError
}
