import type { ActorContext, Reply } from '../runtime/index.js'
import { classadSchema, vmidSchema, type Auth, type DomainCredential, type ListResult, type PeerRef, type Transport, type VmRequest } from '../../interface/index.js'
import type { ShopMessage } from './messages.js'

/** query and destroy take a plant well under a second; this bounds a plant that does not answer */
const FORWARD_TIMEOUT_MS = 30_000
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

/** Tells a plant the shop gave up on an order; its outcome comes back as `cancel.sent`, to retry. */
export function sendCancel (transport: Transport, ctx: ActorContext<ShopMessage>, plant: PeerRef, requestId: string, attempt: number): void {
  ctx.task((signal) => transport.cancel(plant, requestId, { signal: AbortSignal.any([signal, ctx.clock.timeout(FORWARD_TIMEOUT_MS)]) }),
    (outcome) => ({ type: 'cancel.sent', plant, requestId, attempt, outcome }))
}
