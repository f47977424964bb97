import type { Behavior } from '../runtime/index.js'
import { ImageNotFoundError, VmNotFoundError, AuthError, OrderRefusedError } from '../../interface/index.js'
import { InvalidSpecError } from '../../planner/index.js'
import { readWarehouse } from '../../images/index.js'
import { settle, type PlantMessage } from './messages.js'
import { plantLoad, type PlantState } from './plant-state.js'
import { LoadReporter, reportingLoad } from './load-report.js'
import { vmRecordHandler } from './vm-records.js'
import { bidHandler } from './bids.js'
import { orderHandler } from './orders.js'
import { startState } from './plant-start.js'
import type { PlantEvent } from './events.js'
import type { PlantComponents, PlantContext } from './components.js'

export type { PlantComponents } from './components.js'

/**
 * The plant: prices calls for bids, produces VMs on its production line as agreements that
 * expire, and answers for the VMs it holds. Its store holds the one record of each VM; its
 * state is rebuilt from the store (held against the line) on every (re)start. All I/O runs as
 * tasks, so the mailbox never waits on the disk or the hypervisor. This module only routes each
 * message to the part that owns it: bids, orders (admission and the order machine), VM records.
 */
export function plantBehavior (components: PlantComponents): Behavior<PlantState, PlantMessage, PlantEvent> {
  const { line, images } = components
  const warehouse = images.catalog
  const bids = bidHandler(components)
  const orders = orderHandler(components)
  const vmRecords = vmRecordHandler(components)

  const route = (state: PlantState, message: PlantMessage, ctx: PlantContext): PlantState => {
    switch (message.type) {
      case 'bid.call': case 'bid.priced': case 'bid.sent':
        return bids(state, message, ctx)
      case 'order.produce': case 'order.cancel': case 'order.expired': case 'production.done': case 'commit.done':
        return orders(state, message, ctx)
      case 'vm.query': case 'query.done': case 'vm.destroy': case 'destroy.done': case 'record.removed': case 'vm.list':
        return vmRecords(state, message, ctx)
      case 'warehouse.read': {
        const { request, reply } = message
        ctx.task(async () => await readWarehouse(warehouse, line.kind, request), (outcome) => settle(reply, outcome))
        return state
      }
      case 'plant.status': {
        message.reply.resolve({ vms: state.vms.size, producing: state.orders.size, networks: state.networks.size, networkMode: state.network.kind === 'model' ? 'model' : `${state.network.kind}: ${state.network.detail}`, reconciled: { ...state.reconciled } })
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

  const behavior: Behavior<PlantState, PlantMessage, PlantEvent> = {
    init: async (ctx) => await startState(components, ctx),
    receive (state, message, ctx) {
      try {
        return route(state, message, ctx)
      } catch (err: unknown) {
        // a client's mistake is answered, not treated as the plant's failure
        if ('reply' in message && message.reply !== undefined && isClientError(err)) {
          message.reply.reject(err)
          return state
        }
        throw err
      }
    }
  }
  if (components.loadReport === undefined) return behavior
  const reporter = new LoadReporter({ line, warehouse, transport: components.transport, hostFreeMB: components.hostFreeMB }, components.loadReport)
  return reportingLoad(behavior, reporter, (state) => plantLoad(state, line, components.memoryCapacityMB))
}

function isClientError (err: unknown): err is Error {
  return err instanceof ImageNotFoundError || err instanceof VmNotFoundError || err instanceof AuthError || err instanceof InvalidSpecError || err instanceof OrderRefusedError
}
