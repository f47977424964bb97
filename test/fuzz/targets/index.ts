import { tempDir } from '../../helpers/temp.js'
import type { FuzzTarget } from '../harness.js'
import { wireTargets } from './wire.js'
import { statusTargets } from './status.js'
import { documentTargets } from './documents.js'
import { classadTargets } from './classad.js'
import { edgeTargets } from './edges.js'

export type TargetGroup = 'wire' | 'documents' | 'classad' | 'edges'

/** The targets of the groups asked for, and the removal of the folder the document targets write in. */
export async function loadTargets (groups: TargetGroup[] = ['wire', 'documents', 'classad']): Promise<{ targets: FuzzTarget[], close: () => Promise<void> }> {
  const dir = await tempDir('vmplant-fuzz-')
  try {
    const targets: FuzzTarget[] = []
    if (groups.includes('wire')) targets.push(...await wireTargets(), ...await statusTargets())
    if (groups.includes('documents')) targets.push(...await documentTargets(dir.path))
    if (groups.includes('classad')) targets.push(...await classadTargets())
    const closers = [dir.remove]
    if (groups.includes('edges')) {
      const edges = await edgeTargets()
      targets.push(...edges.targets)
      closers.unshift(edges.close)
    }
    return { targets, close: async () => { for (const c of closers) await c() } }
  } catch (err) {
    await dir.remove()
    throw err
  }
}
