/**
 * A plant stand-in that the conformance suite SIGKILLs in the middle of its work: it starts a
 * line from VMPLANT_LINE_CHILD (JSON: kind, init, and golden and vmid, or request), says
 * `started`, then clones and resumes (or builds the requested golden), says `done` and waits to
 * be killed. The options travel in the environment, not on the
 * command line, so that this process is not taken for one of the line's own.
 */
import type { GoldenImage, GoldenRequest } from '../../src/hypervisor/index.js'
import { makeLine, type LineKind } from '../helpers/hypervisors.js'

interface ChildOrder { kind: LineKind, init: Record<string, unknown>, golden?: GoldenImage, vmid?: string, request?: GoldenRequest }

const order = JSON.parse(process.env.VMPLANT_LINE_CHILD ?? '{}') as ChildOrder
const line = makeLine(order.kind, order.init)
await line.start()
process.stdout.write('started\n')
if (order.request !== undefined) {
  await line.prepareGolden(order.request)
} else if (order.golden !== undefined && order.vmid !== undefined) {
  await line.clone(order.golden, order.vmid)
  await line.resume(order.vmid)
}
process.stdout.write('done\n')
setInterval(() => {}, 60_000)
