import type { VmSpec } from '../../planner/index.js'
import type { ProductionLine, GoldenImage } from '../../hypervisor/index.js'
import type { Clock } from '../runtime/index.js'
import { ProductionFailedError } from '../errors.js'
import { configure, type Configuration } from './configure.js'

export interface ProductionResult extends Configuration {
  golden: GoldenImage
  cloned: string[]
  cloningMs: number
  configuringMs: number
}

/**
 * The Production Process Planner's run: find a golden image, clone it, resume it, run the
 * remaining actions. A failure destroys the half-made VM before it is reported, so nothing is
 * left behind.
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
    const configuration = await configure(line, clock, vmid, spec.actions, spec.concurrent, signal)
    return { golden, cloned: golden.applied, ...configuration, cloningMs, configuringMs: clock.now() - started - cloningMs }
  } catch (err) {
    if (cloned) await line.destroy(vmid).catch(() => {})
    if (err instanceof ProductionFailedError) throw err
    throw new ProductionFailedError(`production of ${vmid} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}
