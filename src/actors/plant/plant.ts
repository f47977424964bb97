import type { ActorContext, Behavior } from '../runtime/index.js'
import type { ProductionLine } from '../../hypervisor/index.js'
import { VmNotFoundError as LineVmNotFoundError } from '../../hypervisor/index.js'
import type { PlantStore, NetworkAllocation, VmRecord } from '../../store/index.js'
import type { Transport } from '../transport.js'
import type { Auth, BidAnswer, Classad, Order } from '../../net/wire.js'
import { AuthError, verifyAuth } from '../../net/auth.js'
import { actionIdentity, InvalidSpecError, validateSpec, type VmSpec } from '../../planner/index.js'
import { duePrefix, evictBeyondBudget, learnPrefix, type LearningConfig } from './learning.js'
import { ImageNotFoundError, OrderRefusedError, VmNotFoundError } from '../errors.js'
import type { CostConfig, CostModel, PlantLoad } from './cost.js'
import { produce } from './production.js'
import { readWarehouse } from './warehouse-view.js'
import { imageFit } from './image-fit.js'
import type { PlantMessage } from './messages.js'
import type { RemoteImages } from '../../net/images/index.js'

export interface PlantComponents {
  line: ProductionLine
  store: PlantStore
  transport: Transport
  cost: CostModel
  limits: Pick<CostConfig, 'maxNetworks'>
  /** host memory the plant may give to VMs, in MB */
  memoryCapacityMB: number
  /** what the host has free now, in MB (the daemon reads /proc/meminfo); absent in the simulator */
  hostFreeMB?: () => number
  /** learning golden images from repeated action prefixes; off when absent */
  learning?: LearningConfig
  /** peers' golden images on the DHT: fetched when one saves more actions than the plant's own best */
  images?: RemoteImages
}

interface Active { domain: string, memoryMB: number }

export interface PlantState {
  /** VMs running or being produced, by vmid */
  active: Map<string, Active>
  /** host-only networks by domain; `committed` is false while only a production under way holds it */
  networks: Map<string, { allocation: NetworkAllocation, committed: boolean }>
}

/**
 * The plant: prices calls for bids, produces VMs on its production line, and answers for the VMs
 * it holds. Its state is rebuilt from its store on every (re)start.
 */
export function plantBehavior (components: PlantComponents): Behavior<PlantState, PlantMessage> {
  const { line, store, transport } = components
  /** prefixes being learned right now, so that two productions do not build the same image */
  const learning = new Set<string>()


  const load = (state: PlantState): PlantLoad => {
    // a warm pool is memory the plant has spent, and counts against what it can offer
    let memoryUsedMB = line.reservedMB?.() ?? 0
    for (const vm of state.active.values()) memoryUsedMB += vm.memoryMB
    return {
      runningVms: state.active.size,
      domains: new Set(state.networks.keys()),
      networksInUse: state.networks.size,
      memoryUsedMB,
      memoryCapacityMB: components.memoryCapacityMB,
      ...(components.hostFreeMB !== undefined ? { hostFreeMB: components.hostFreeMB() } : {})
    }
  }

  const owned = async (state: PlantState, vmid: string, auth: Auth, op: string, ctx: ActorContext<PlantMessage>): Promise<VmRecord> => {
    await verifyAuth(auth, op, vmid, ctx.clock.now())
    const record = await store.getVm(vmid)
    if (record === undefined || record.classad.owner !== auth.owner) throw new VmNotFoundError(vmid)
    return record
  }

  return {
    async init () {
      const state: PlantState = { active: new Map(), networks: new Map() }
      for (const allocation of await store.listNetworks()) state.networks.set(allocation.domain, { allocation, committed: true })
      const alive = new Set((await line.list()).map((vm) => vm.vmid))
      for (const { classad } of await store.listVms()) {
        if (alive.has(classad.vmid)) state.active.set(classad.vmid, { domain: classad.domain, memoryMB: line.memoryCostMB(classad.memoryMB) })
        else if (classad.state !== 'crashed') await store.updateVm({ classad: { ...classad, state: 'crashed' } })
      }
      return state
    },

    async receive (state, message, ctx) {
      try {
        return await transition(state, message, ctx)
      } catch (err) {
        // a client's mistake is answered, not treated as the plant's failure
        if ('reply' in message && isClientError(err)) {
          message.reply.reject(err as Error)
          return state
        }
        throw err
      }
    }
  }

  /** counts the request's prefixes; builds the one that is due, then keeps the warehouse within its budget */
  async function learnAfter (spec: VmSpec, now: () => number, signal: AbortSignal): Promise<{ learned?: string, evicted: string[] }> {
    const config = components.learning as LearningConfig
    const prefix = await duePrefix(store.warehouse, line.kind, spec, config)
    let learned: string | undefined
    const key = prefix?.map(actionIdentity).join(',')
    if (prefix !== undefined && key !== undefined && !learning.has(key)) {
      learning.add(key)
      try {
        learned = (await learnPrefix(line, store.warehouse, spec, prefix, now, signal)).id
        components.images?.announce()
      } finally {
        learning.delete(key)
      }
    }
    const inUse = new Set((await store.listVms()).filter((r) => r.classad.state !== 'crashed').map((r) => r.classad.goldenImage))
    const evicted = config.diskBudgetMB !== undefined ? await evictBeyondBudget(store.warehouse, config.diskBudgetMB, inUse) : []
    return { ...(learned !== undefined ? { learned } : {}), evicted }
  }

  async function transition (state: PlantState, message: PlantMessage, ctx: ActorContext<PlantMessage>): Promise<PlantState> {
    switch (message.type) {
      case 'bid.call': {
        const { call } = message
        const unsupported = line.unsupported?.(call.hardware)
        const verdict = unsupported !== undefined
          ? { bid: false as const, reason: unsupported }
          : components.cost(load(state), { domain: call.domain, memoryMB: line.memoryCostMB(call.hardware.memoryMB), ...(await imageFit(store.warehouse, line.kind, call)) })
        const self = transport.self()
        const answer: BidAnswer = verdict.bid
          ? { type: 'bid.offer', requestId: call.requestId, plant: self, cost: verdict.cost, reason: verdict.reason }
          : { type: 'bid.decline', requestId: call.requestId, bidder: self.peer, reason: verdict.reason }
        ctx.task((signal) => transport.answer(call.replyTo, answer, { signal }), (outcome) => ({ type: 'bid.sent', requestId: call.requestId, outcome }))
        return state
      }
      case 'bid.sent': {
        if (!message.outcome.ok) ctx.log('could not answer call %s: %s', message.requestId, message.outcome.error.message)
        return state
      }
      case 'order.produce': {
        const { order, reply } = message
        const spec = validateSpec(order.spec)
        const unsupported = line.unsupported?.(spec.hardware)
        if (unsupported !== undefined) throw new OrderRefusedError(`plant ${transport.self().peer} refuses: ${unsupported}`)
        const memoryMB = line.memoryCostMB(spec.hardware.memoryMB)
        const verdict = components.cost(load(state), { domain: order.domain, memoryMB })
        if (!verdict.bid) {
          reply.reject(new OrderRefusedError(`plant ${transport.self().peer} refuses: ${verdict.reason}`))
          return state
        }
        const vmid = `vm-${ctx.random.hex(8)}.${transport.self().peer}`
        state.active.set(vmid, { domain: order.domain, memoryMB })
        if (!state.networks.has(order.domain)) state.networks.set(order.domain, { allocation: allocateNetwork(state, order.domain, components.limits.maxNetworks, ctx.clock.now()), committed: false })
        ctx.log('producing %s for %s in domain %s', vmid, order.owner, order.domain)
        ctx.task((signal) => produce(line, store.warehouse, ctx.clock, vmid, spec, signal, components.images), (outcome) => ({ type: 'production.done', order, spec, vmid, outcome, reply }))
        return state
      }
      case 'production.done': {
        const { order, spec, vmid, outcome, reply } = message
        const network = state.networks.get(order.domain) as { allocation: NetworkAllocation, committed: boolean }
        const releaseReservation = (): void => {
          state.active.delete(vmid)
          if (!network.committed && ![...state.active.values()].some((vm) => vm.domain === order.domain)) state.networks.delete(order.domain)
        }
        if (!outcome.ok) {
          releaseReservation()
          ctx.log.error('production of %s failed: %s', vmid, outcome.error.message)
          reply.reject(outcome.error)
          return state
        }
        const result = outcome.value
        const totalMs = order.biddingMs + result.cloningMs + result.configuringMs
        const classad: Classad = {
          vmid,
          plant: transport.self().peer,
          domain: order.domain,
          owner: order.owner,
          state: 'running',
          memoryMB: spec.hardware.memoryMB,
          os: spec.hardware.os,
          arch: spec.hardware.arch,
          line: line.kind,
          goldenImage: result.image.id,
          network: { name: network.allocation.name, index: network.allocation.index },
          cost: order.cost,
          createdAt: new Date(ctx.clock.now()).toISOString(),
          timings: { biddingMs: order.biddingMs, cloningMs: result.cloningMs, configuringMs: result.configuringMs, totalMs },
          actions: { cloned: result.cloned, run: result.run },
          outputs: Object.fromEntries(Object.entries(result.outputs).map(([id, r]) => [id, { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs }])),
          attributes: result.attributes,
          recovered: result.recovered
        }
        try {
          await store.commitVm({ classad }, network.committed ? undefined : network.allocation)
          network.committed = true
        } catch (err) {
          releaseReservation()
          await line.destroy(vmid).catch(() => {})
          throw err
        }
        reply.resolve(classad)
        if (components.learning !== undefined) ctx.task((signal) => learnAfter(spec, () => ctx.clock.now(), signal), (outcome) => ({ type: 'learning.done', outcome }))
        return state
      }
      case 'learning.done': {
        if (!message.outcome.ok) ctx.log.error('learning a golden image failed: %s', message.outcome.error.message)
        else if (message.outcome.value.learned !== undefined || message.outcome.value.evicted.length > 0) ctx.log('learned %s, evicted %s', message.outcome.value.learned ?? 'nothing', message.outcome.value.evicted.join(', ') || 'nothing')
        return state
      }
      case 'vm.query': {
        const record = await owned(state, message.vmid, message.auth, 'query', ctx)
        const live = await liveState(line, record.classad)
        if (live !== record.classad.state) {
          record.classad.state = live
          await store.updateVm(record)
          if (live === 'crashed') state.active.delete(record.classad.vmid)
        }
        message.reply.resolve(record.classad)
        return state
      }
      case 'vm.destroy': {
        const { vmid, reply } = message
        await owned(state, vmid, message.auth, 'destroy', ctx)
        ctx.task((signal) => line.destroy(vmid, { signal }), (outcome) => ({ type: 'destroy.done', vmid, outcome, reply }))
        return state
      }
      case 'destroy.done': {
        const { vmid, outcome, reply } = message
        if (!outcome.ok) {
          reply.reject(outcome.error)
          return state
        }
        const record = await store.getVm(vmid)
        const domain = record?.classad.domain
        state.active.delete(vmid)
        const others = domain !== undefined && (await store.listVms()).some((r) => r.classad.vmid !== vmid && r.classad.domain === domain && r.classad.state !== 'crashed')
        const stillProducing = [...state.active.values()].some((vm) => vm.domain === domain)
        const release = domain !== undefined && !others && !stillProducing ? domain : undefined
        await store.removeVm(vmid, release)
        if (release !== undefined) state.networks.delete(release)
        ctx.log('destroyed %s', vmid)
        reply.resolve({ vmid, destroyed: true })
        return state
      }
      case 'vm.list': {
        await verifyAuth(message.auth, 'list', '', ctx.clock.now())
        const mine = (await store.listVms()).filter((r) => r.classad.owner === message.auth.owner).map((r) => r.classad)
        message.reply.resolve(mine)
        return state
      }
      case 'warehouse.read': {
        message.reply.resolve(await readWarehouse(store.warehouse, line.kind, message.request))
        return state
      }
      default: {
        const unknown: never = message
        throw new Error(`plant got an unknown message ${(unknown as { type: string }).type}`)
      }
    }
  }
}

function isClientError (err: unknown): boolean {
  return err instanceof ImageNotFoundError || err instanceof VmNotFoundError || err instanceof AuthError || err instanceof InvalidSpecError || err instanceof OrderRefusedError
}

function allocateNetwork (state: PlantState, domain: string, maxNetworks: number, now: number): NetworkAllocation {
  const used = new Set([...state.networks.values()].map((n) => n.allocation.index))
  let index = 0
  while (used.has(index) && index < maxNetworks) index++
  return { domain, index, name: `hostonly-${index}`, allocatedAt: new Date(now).toISOString() }
}

async function liveState (line: ProductionLine, classad: Classad): Promise<Classad['state']> {
  try {
    return (await line.inspect(classad.vmid)).state
  } catch (err) {
    if (err instanceof LineVmNotFoundError) return 'crashed'
    throw err
  }
}
