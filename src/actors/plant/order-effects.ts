import { learnAfter } from '../../images/index.js'
import { classadOf } from './classad.js'
import { produce, type ProductionResult } from './production.js'
import { productionSteps } from './progress.js'
import { attachmentFor, networkClassad, releaseBridge } from './networks.js'
import { domainInUse, orderDomain, type PlantOrder, type PlantState } from './plant-state.js'
import type { OrderEffect } from './order-machine.js'
import type { PlantComponents, PlantContext } from './components.js'

/** Runs slow work whose outcome only needs a log line when it fails. */
export function background (ctx: PlantContext, what: string, work: (signal: AbortSignal) => Promise<unknown>): void {
  ctx.task(work, (outcome) => ({ type: 'background.done', what, outcome }))
}

/** Destroys a committed VM; its record (and the domain's last network) go when `destroy.done` arrives. */
export function destroyRecordedVm (components: Pick<PlantComponents, 'line'>, ctx: PlantContext, vmid: string): void {
  ctx.task((signal) => components.line.destroy(vmid, { signal }), (outcome) => ({ type: 'destroy.done', vmid, outcome }))
}

export type OrderEffectRunner = (state: PlantState, order: PlantOrder, effect: OrderEffect, ctx: PlantContext) => void

/** Carries out what the order machine decided, through the plant's context: tasks, replies, events. */
export function orderEffects (components: PlantComponents): OrderEffectRunner {
  const { line, faults } = components
  return (state, order, effect, ctx) => {
    const { vmid } = order
    switch (effect.type) {
      case 'produce': produceVm(components, state, order, ctx); return
      case 'arm-expiry': {
        const { budgetMs } = order.order
        ctx.task((signal) => ctx.clock.sleep(budgetMs, { signal: AbortSignal.any([signal, order.abort.signal]) }), () => ({ type: 'order.expired', vmid }))
        return
      }
      case 'abort-production': order.abort.abort(effect.reason); return
      case 'commit': commit(components, state, order, effect.result, ctx); return
      case 'hold': hold(state, order); return
      case 'release': release(components, state, order, ctx); return
      case 'destroy': {
        if (effect.recorded) destroyRecordedVm(components, ctx, vmid)
        else background(ctx, `destroying ${vmid}`, (signal) => line.destroy(vmid, { signal }))
        return
      }
      case 'resolve': {
        faults?.hit('after-commit')
        ctx.emit({ type: 'order.delivered', vmid, requestId: order.order.requestId, classad: effect.classad })
        order.reply.resolve(effect.classad)
        return
      }
      case 'reject': {
        ctx.log.error('order %s (%s) ended, %s: %s', order.order.requestId, vmid, effect.reason, effect.error.message)
        ctx.emit({ type: 'order.ended', vmid, requestId: order.order.requestId, reason: effect.reason, error: effect.error })
        order.reply.reject(effect.error)
        return
      }
      case 'learn': learn(components, state, order, ctx); return
      default: {
        const unknown: never = effect
        throw new Error(`unknown order effect ${(unknown as { type: string }).type}`)
      }
    }
  }
}

function produceVm (components: PlantComponents, state: PlantState, order: PlantOrder, ctx: PlantContext): void {
  const mode = state.network
  const parts = {
    line: components.line, images: components.images, clock: ctx.clock, faults: components.faults,
    attach: attachmentFor(mode, components.hostNetworks, state.networks.get(orderDomain(order.order))?.allocation, order.vmid),
    networkless: mode.kind === 'bridge' ? undefined : mode.kind === 'none' ? mode.detail : 'its networks are modelled only',
    progress: order.progress !== undefined ? productionSteps(order.progress, ctx.clock) : undefined
  }
  ctx.log('producing %s for %s in domain %s, due in %d ms', order.vmid, order.order.owner, order.order.domain, order.order.budgetMs)
  ctx.task((signal) => produce(parts, order.vmid, order.spec, AbortSignal.any([signal, order.abort.signal])), (outcome) => ({ type: 'production.done', vmid: order.vmid, outcome }))
}

function commit (components: PlantComponents, state: PlantState, order: PlantOrder, result: ProductionResult, ctx: PlantContext): void {
  components.faults?.hit('before-commit')
  const network = state.networks.get(orderDomain(order.order))
  const where = { plant: components.transport.self().peer, line: components.line.kind, now: ctx.clock.now(), network: networkClassad(state.network, network?.allocation) }
  const classad = classadOf(order, result, where)
  const record = { classad, handle: result.handle, requestId: order.order.requestId, orderedBy: order.orderedBy }
  const newNetwork = network === undefined || network.committed ? undefined : network.allocation
  ctx.task((signal) => components.store.commitVm(record, newNetwork, { signal }), (committed) => ({ type: 'commit.done', vmid: order.vmid, classad, outcome: committed }))
}

/** the order will not deliver: its memory is free, and so is a network that only it made and used */
function release (components: PlantComponents, state: PlantState, order: PlantOrder, ctx: PlantContext): void {
  const domain = orderDomain(order.order)
  const network = state.networks.get(domain)
  if (network === undefined || network.committed || domainInUse(state, domain, order.vmid)) return
  state.networks.delete(domain)
  background(ctx, `removing ${network.allocation.name}`, (signal) => releaseBridge(state.network, components.hostNetworks, network.allocation.index, { signal }))
}

function hold (state: PlantState, order: PlantOrder): void {
  const domain = orderDomain(order.order)
  state.vms.set(order.vmid, { domain, memoryMB: order.memoryMB, requestId: order.order.requestId, orderedBy: order.orderedBy })
  const network = state.networks.get(domain)
  if (network !== undefined) network.committed = true
}

function learn (components: PlantComponents, state: PlantState, order: PlantOrder, ctx: PlantContext): void {
  const config = components.learning
  if (config === undefined) return
  const parts = { line: components.line, store: components.store, warehouse: components.images.catalog, announce: components.images.announce, learning: state.learning }
  ctx.task((signal) => learnAfter(parts, config, order.spec, () => ctx.clock.now(), signal), (learned) => ({ type: 'learning.done', outcome: learned }))
}
