import { join } from 'node:path'
import type { GoldenImage, ProductionLine } from '../../src/interface/index.js'
import { actionIdentity, validateSpec } from '../../src/planner/index.js'
import { plantStore } from '../../src/store/index.js'
import { imageCatalog } from '../../src/images/index.js'

/**
 * Builds a golden image of the spec's first `steps` actions on `line` and catalogues it in the
 * plant store under `dataDir`, as `vmplant image publish` would.
 */
export async function publishGolden (line: ProductionLine, dataDir: string, input: unknown, steps: number): Promise<{ id: string, golden: GoldenImage }> {
  const spec = validateSpec(input)
  const store = plantStore(join(dataDir, 'store'))
  await store.start()
  try {
    const actions = spec.actions.slice(0, steps)
    const golden = await line.prepareGolden({ hardware: spec.hardware, actions: actions.map((a) => ({ id: a.id, run: a.run })) })
    const record = await imageCatalog(store.warehouse).add({ ...golden, applied: actions.map(actionIdentity) }, 'published', Date.now())
    return { id: record.id, golden }
  } finally {
    await store.stop()
  }
}
