import { admissionView, admitOrder } from './admission.js'
import { isFinal, orderTransition, reservedOrder, type OrderEvent } from './order-machine.js'
import { background, destroyRecordedVm, orderEffects } from './order-effects.js'
import { allocateNetwork, type PlantOrder, type PlantState } from './plant-state.js'
import { networkNamer, usesNetworks } from './networks.js'
import type { PlantMessage } from './messages.js'
import type { PlantComponents, PlantContext } from './components.js'

type OrderMessage = Extract<PlantMessage, { type: 'order.produce' | 'order.cancel' | 'order.expired' | 'production.done' | 'commit.done' }>

/**
 * The orders the plant takes: admission, then each order's life as the order machine says
 * (order-machine.ts), fed by the messages its tasks and the shop send. The orders are in the
 * plant's state by vmid, from admission until they are delivered or ended.
 */
export function orderHandler (components: PlantComponents): (state: PlantState, message: OrderMessage, ctx: PlantContext) => PlantState {
  const { line } = components
  const run = orderEffects(components)
  const step: Step = (state, order, event, ctx) => {
    const next = orderTransition(order.machine, event)
    order.machine = next.state
    if (isFinal(next.state)) state.orders.delete(order.vmid)
    for (const effect of next.effects) run(state, order, effect, ctx)
  }

  return (state, message, ctx) => {
    switch (message.type) {
      case 'order.produce':
        ctx.emit({ type: 'order.received', requestId: message.order.requestId, from: message.from })
        take(components, step, state, message, ctx)
        return state
      case 'order.cancel':
        cancel(components, step, state, message, ctx)
        return state
      case 'order.expired': {
        const order = state.orders.get(message.vmid)
        if (order !== undefined) step(state, order, { type: 'expire' }, ctx)
        return state
      }
      case 'production.done': {
        const { vmid, outcome } = message
        const order = state.orders.get(vmid)
        if (order !== undefined) step(state, order, outcome.ok ? { type: 'produced', result: outcome.value } : { type: 'production.failed', error: outcome.error }, ctx)
        // the actor restarted while this ran: nobody waits for the VM any more
        else if (outcome.ok) background(ctx, `destroying unclaimed ${vmid}`, (signal) => line.destroy(vmid, { signal }))
        return state
      }
      case 'commit.done': {
        const { vmid, classad, outcome } = message
        if (!outcome.ok) ctx.emit({ type: 'store.write-failed', op: 'commit', vmid, error: outcome.error })
        const order = state.orders.get(vmid)
        if (order !== undefined) step(state, order, outcome.ok ? { type: 'committed', classad } : { type: 'commit.failed', error: outcome.error }, ctx)
        // the actor restarted while the record was written: nobody waits for the VM any more
        else if (outcome.ok) destroyRecordedVm(components, ctx, vmid)
        else background(ctx, `destroying unclaimed ${vmid}`, (signal) => line.destroy(vmid, { signal }))
        return state
      }
      default: {
        const unknown: never = message
        throw new Error(`unknown order message ${(unknown as { type: string }).type}`)
      }
    }
  }
}

/** one event fed to an order's machine, its effects carried out */
type Step = (state: PlantState, order: PlantOrder, event: OrderEvent, ctx: PlantContext) => void

/** Admission, then the order is reserved (its memory, a new domain network) and started. */
function take (components: PlantComponents, step: Step, state: PlantState, message: Extract<OrderMessage, { type: 'order.produce' }>, ctx: PlantContext): void {
  const { order, from, reply, progress } = message
  const self = components.transport.self().peer
  const admission = admitOrder(admissionView(components, state, self), state, order, from)
  if (!admission.admitted) {
    ctx.log('refused an order: %s', admission.error.message)
    reply.reject(admission.error)
    return
  }
  const { spec, memoryMB, domain } = admission
  const vmid = `vm-${ctx.random.hex(8)}.${self}`
  const taken: PlantOrder = { vmid, order, spec, orderedBy: from, memoryMB, machine: reservedOrder({ vmid, requestId: order.requestId, budgetMs: order.budgetMs }), abort: new AbortController(), reply, progress }
  state.orders.set(vmid, taken)
  const mode = state.network
  if (usesNetworks(mode) && !state.networks.has(domain)) {
    state.networks.set(domain, { allocation: allocateNetwork(state, domain, components.limits.maxNetworks, ctx.clock.now(), networkNamer(mode, components.hostNetworks)), committed: false })
  }
  step(state, taken, { type: 'start' }, ctx)
}

/** A cancel from the peer that ordered: of an order under way, or of a VM delivered already. */
function cancel (components: PlantComponents, step: Step, state: PlantState, { requestId, from }: Extract<OrderMessage, { type: 'order.cancel' }>, ctx: PlantContext): void {
  const order = [...state.orders.values()].find((o) => o.order.requestId === requestId)
  const held = order === undefined ? [...state.vms.entries()].find(([, vm]) => vm.requestId === requestId) : undefined
  const orderedBy = order?.orderedBy ?? held?.[1].orderedBy
  if (orderedBy === undefined) return
  if (orderedBy !== from) {
    ctx.log('ignored a cancel of %s from %s, which did not order it', requestId, from)
    return
  }
  if (order !== undefined) {
    step(state, order, { type: 'cancel' }, ctx)
    return
  }
  if (held === undefined) return
  // delivered already: the plant keeps the VM, not the order; the machine says what a cancel does to it
  const [vmid] = held
  for (const effect of orderTransition({ name: 'delivered', terms: { vmid, requestId, budgetMs: 0 } }, { type: 'cancel' }).effects) {
    if (effect.type !== 'destroy') continue
    ctx.log('order %s cancelled after delivery: destroying %s', requestId, vmid)
    destroyRecordedVm(components, ctx, vmid)
  }
}
