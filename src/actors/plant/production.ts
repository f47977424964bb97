import { topologicalOrder, type VmSpec } from '../../planner/index.js'
import type { ActionResult, ProductionLine, GoldenImage } from '../../hypervisor/index.js'
import type { Clock } from '../runtime/index.js'
import { ProductionFailedError } from '../errors.js'

export interface ProductionResult {
  golden: GoldenImage
  outputs: Record<string, ActionResult>
  cloned: string[]
  run: string[]
  cloningMs: number
  configuringMs: number
}

const OUTPUT_TAIL_BYTES = 2000

/**
 * The Production Process Planner's run: find a golden image, clone it, resume it, run the
 * remaining actions in a topological order. A failure destroys the half-made VM before it is
 * reported, so nothing is left behind.
 */
export async function produce (line: ProductionLine, clock: Clock, vmid: string, spec: VmSpec, signal: AbortSignal): Promise<ProductionResult> {
  const started = clock.now()
  let cloned = false
  try {
    const golden = await line.prepareGolden({ hardware: spec.hardware, actions: [] }, { signal })
    await line.clone(golden, vmid, { signal })
    cloned = true
    await line.resume(vmid, { signal })
    const cloningMs = clock.now() - started
    const outputs: Record<string, ActionResult> = {}
    const run: string[] = []
    for (const action of topologicalOrder(spec.actions)) {
      const result = await line.runAction(vmid, { id: action.id, run: action.run }, { signal })
      outputs[action.id] = result
      run.push(action.id)
      if (result.exitCode !== 0 || result.timedOut) {
        const tail = (result.stdout + result.stderr).slice(-OUTPUT_TAIL_BYTES).trim()
        const what = result.timedOut ? 'timed out' : `exited with code ${result.exitCode}`
        throw new ProductionFailedError(`action "${action.id}" ${what}${tail !== '' ? `; output ends: ${tail}` : ''}`)
      }
    }
    return { golden, outputs, cloned: golden.applied, run, cloningMs, configuringMs: clock.now() - started - cloningMs }
  } catch (err) {
    if (cloned) await line.destroy(vmid).catch(() => {})
    if (err instanceof ProductionFailedError) throw err
    throw new ProductionFailedError(`production of ${vmid} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}
