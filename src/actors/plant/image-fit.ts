import { chooseImage, compileRequest, type VmSpec } from '../../planner/index.js'
import type { Warehouse } from '../../store/index.js'
import type { BidCall } from '../../interface/index.js'
import type { CostRequest } from './cost.js'

/**
 * How well this plant's warehouse serves a call, from the DAG's shape and identities the call
 * carries (no scripts): the image part of a bid. Empty when the call has no DAG.
 */
export async function imageFit (warehouse: Warehouse, lineKind: string, call: BidCall): Promise<Pick<CostRequest, 'image'>> {
  if (call.dag === undefined) return {}
  // a peer's DAG is checked like any input: unique ids and edges to known actions, or no image part
  const ids = new Set(call.dag.map((a) => a.id))
  if (ids.size !== call.dag.length || call.dag.some((a) => a.after.some((d) => !ids.has(d)))) return {}
  const shape: VmSpec = {
    hardware: { ...call.hardware },
    actions: call.dag.map((a) => ({ id: a.id, type: 'guest', run: a.identity, after: a.after, exports: [] })),
    concurrent: false
  }
  let request
  try {
    request = compileRequest(shape, call.dag.map((a) => a.identity))
  } catch {
    return {}
  }
  const plan = chooseImage(request, await warehouse.index(lineKind))
  return { image: { saves: plan?.cloned.length ?? 0, remaining: plan?.remaining.length ?? call.dag.length, local: plan !== undefined } }
}
