import type { ActorContext, Reply } from '../runtime/index.js'
import { classadSchema, destroyResultSchema, vmidSchema, type Auth, type DomainCredential, type ListResult, type Transport, type VmRequest } from '../../interface/index.js'
import type { ShopMessage } from './messages.js'
import type { ShopState } from './components.js'
import type { ShopContext } from './events.js'

type ForwardingMessage = Extract<ShopMessage, { type: 'client.query' | 'client.destroy' | 'client.list' | 'forward.done' }>

/** query and destroy take a plant well under a second; this bounds a plant that does not answer */
export const FORWARD_TIMEOUT_MS = 30_000
const LIST_TIMEOUT_MS = 10_000

/** Plants never keep their VMs' shops in mind, and the shop keeps no VM: the VMID names the plant. */
export function plantOf (vmid: string): string {
  return vmidSchema.parse(vmid).slice(vmid.indexOf('.') + 1)
}

/** A client's request about one VM, sent on to the plant that holds it; the answer settles `reply`. */
export function forward (transport: Transport, ctx: ActorContext<ShopMessage>, reply: Reply<any>, plant: string, request: VmRequest, parse: (v: unknown) => unknown): void {
  ctx.task(async (signal) => parse(await transport.vmRequest(plant, request, { signal: AbortSignal.any([signal, ctx.clock.timeout(FORWARD_TIMEOUT_MS)]) })),
    (outcome) => ({ type: 'forward.done', outcome, reply }))
}

/** A client's list: every plant asked at once; the ones that do not answer are named, not waited for. */
export function listAll (transport: Transport, ctx: ActorContext<ShopMessage>, reply: Reply<ListResult>, auth: Auth, credentials: DomainCredential[]): void {
  ctx.task(async (signal) => {
    const plants = await transport.plants({ signal })
    const answers = await Promise.allSettled(plants.map(async (plant) => transport.vmRequest(plant, { type: 'vm.list', auth, credentials }, { signal: AbortSignal.any([signal, ctx.clock.timeout(LIST_TIMEOUT_MS)]) })))
    const result: ListResult = { vms: [], unreachable: [] }
    answers.forEach((answer, i) => {
      if (answer.status === 'fulfilled' && Array.isArray(answer.value)) result.vms.push(...answer.value.map((v) => classadSchema.parse(v)))
      else result.unreachable.push(plants[i] as string)
    })
    result.vms.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    return result
  }, (outcome) => ({ type: 'forward.done', outcome, reply }))
}

/** Queries, destroys and lists: sent on to the plants that hold the VMs, their answers back to the client. The shop keeps nothing of them. */
export function forwardingHandler (transport: Transport): (state: ShopState, message: ForwardingMessage, ctx: ShopContext) => ShopState {
  return (state, message, ctx) => {
    switch (message.type) {
      case 'client.query':
        forward(transport, ctx, message.reply, plantOf(message.vmid), { type: 'vm.query', vmid: message.vmid, auth: message.auth, credentials: message.credentials }, (v) => classadSchema.parse(v))
        return state
      case 'client.destroy':
        forward(transport, ctx, message.reply, plantOf(message.vmid), { type: 'vm.destroy', vmid: message.vmid, auth: message.auth, credentials: message.credentials }, (v) => destroyResultSchema.parse(v))
        return state
      case 'client.list':
        listAll(transport, ctx, message.reply, message.auth, message.credentials)
        return state
      case 'forward.done':
        if (message.outcome.ok) message.reply.resolve(message.outcome.value)
        else message.reply.reject(message.outcome.error)
        return state
      default: {
        const unknown: never = message
        throw new Error(`unknown forwarding message ${(unknown as { type: string }).type}`)
      }
    }
  }
}
