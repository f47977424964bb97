import { chooseImage, compileRequest, type CompiledRequest, type VmSpec, type WarehouseIndex } from '../../planner/index.js'
import type { Warehouse } from '../../store/index.js'
import type { BidCall } from '../../interface/index.js'
import type { CostRequest } from './cost.js'

/**
 * How well this plant's warehouse serves a call, from the DAG's shape and identities the call
 * carries (no scripts): the image part of a bid. Empty when the call has no DAG.
 */
export async function imageFit (warehouse: Warehouse, lineKind: string, call: BidCall): Promise<Pick<CostRequest, 'image'>> {
  if (call.dag === undefined) return {}
  return imageFitOf(await warehouse.index(lineKind), call)
}

/** `imageFit` from an index of the images: the plant's own, or one a broker keeps from a load report. */
export function imageFitOf (index: WarehouseIndex, call: BidCall): Pick<CostRequest, 'image'> {
  return fitOf(callRequest(call), index, call)
}

/** The call's DAG as the planner matches it; undefined when the call has none or it is not a DAG. */
export function callRequest (call: BidCall): CompiledRequest | undefined {
  if (call.dag === undefined) return undefined
  // a peer's DAG is checked like any input: unique ids and edges to known actions, or no image part
  const ids = new Set(call.dag.map((a) => a.id))
  if (ids.size !== call.dag.length || call.dag.some((a) => a.after.some((d) => !ids.has(d)))) return undefined
  const shape: VmSpec = {
    hardware: { ...call.hardware },
    actions: call.dag.map((a) => ({ id: a.id, type: 'guest', run: a.identity, after: a.after, exports: [] })),
    concurrent: false
  }
  try {
    return compileRequest(shape, call.dag.map((a) => a.identity))
  } catch {
    return undefined
  }
}

/** The image part of a bid for a request compiled once (a broker prices it for many plants). */
export function fitOf (request: CompiledRequest | undefined, index: WarehouseIndex, call: BidCall): Pick<CostRequest, 'image'> {
  if (request === undefined || call.dag === undefined) return {}
  const plan = chooseImage(request, index)
  return { image: { saves: plan?.cloned.length ?? 0, remaining: plan?.remaining.length ?? call.dag.length, local: plan !== undefined } }
}
