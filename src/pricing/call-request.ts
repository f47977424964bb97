import { compileRequest, type CompiledRequest, type VmSpec } from '../planner/index.js'
import type { BidCall } from '../interface/index.js'

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
