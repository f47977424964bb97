import { actionIdentity, artifactBytes, hardwareKey, isHostAction, sha256Hex, topologicalOrder, type ActionSpec, type VmSpec } from '../planner/index.js'
import type { PlantStore, ProductionLine, WarehouseRecord } from '../interface/index.js'
import type { ImageCatalog } from './catalog.js'

/** When a plant learns golden images, and how much room they may take. */
export interface LearningConfig {
  /** requests of one action prefix after which it becomes a golden image; 0 never learns */
  after: number
  /** total artifact size the warehouse may hold, MB; least recently used images beyond it are evicted */
  diskBudgetMB?: number
}

/** The guest actions a golden image could record: a topological order, up to the first host action. */
function learnableOrder (spec: VmSpec): ActionSpec[] {
  const order = topologicalOrder(spec.actions)
  const host = order.findIndex(isHostAction)
  return host < 0 ? order : order.slice(0, host)
}

/**
 * Counts the request's action prefixes, like layers in an image builder, and returns the longest
 * one that has now been asked for `after` times and that no image of the warehouse already is.
 */
export async function duePrefix (warehouse: ImageCatalog, lineKind: string, spec: VmSpec, config: LearningConfig): Promise<ActionSpec[] | undefined> {
  if (config.after <= 0) return undefined
  const order = learnableOrder(spec)
  const identities = order.map(actionIdentity)
  const have = new Set((await warehouse.list()).filter((r) => r.descriptor.line === lineKind && r.descriptor.hardware.memoryMB === spec.hardware.memoryMB).map((r) => r.descriptor.applied.join(',')))
  let due: ActionSpec[] | undefined
  for (let n = 1; n <= order.length; n++) {
    const key = sha256Hex(`${lineKind}\n${hardwareKey(spec.hardware)}\n${identities.slice(0, n).join(',')}`)
    const count = await warehouse.notePrefix(key)
    if (count >= config.after && !have.has(identities.slice(0, n).join(','))) due = order.slice(0, n)
  }
  return due
}

/** Builds the golden image of a prefix on the line (a fresh VM runs it; no client's VM is copied) and catalogues it. */
export async function learnPrefix (line: ProductionLine, warehouse: ImageCatalog, spec: VmSpec, prefix: ActionSpec[], now: () => number, signal: AbortSignal): Promise<WarehouseRecord> {
  const golden = await line.prepareGolden({ hardware: spec.hardware, actions: prefix.map((a) => ({ id: a.id, run: a.run, ...(a.timeoutMs !== undefined ? { timeoutMs: a.timeoutMs } : {}) })) }, { signal })
  return await warehouse.add({ ...golden, applied: prefix.map(actionIdentity) }, 'learned', now(), { signal })
}

/**
 * Removes least recently used images until the warehouse fits its budget. Images that running
 * VMs were cloned from stay, whatever their age: their clones still read the files.
 */
export async function evictBeyondBudget (warehouse: ImageCatalog, budgetMB: number, inUse: ReadonlySet<string>): Promise<string[]> {
  const records = (await warehouse.list()).sort((a, b) => a.lastUsedAt - b.lastUsedAt)
  let total = records.reduce((sum, r) => sum + artifactBytes(r.descriptor), 0)
  const budget = budgetMB * 1024 * 1024
  const evicted: string[] = []
  for (const record of records) {
    if (total <= budget) break
    if (inUse.has(record.id)) continue
    await warehouse.discard(record.id)
    total -= artifactBytes(record.descriptor)
    evicted.push(record.id)
  }
  return evicted
}

export interface LearningParts {
  line: ProductionLine
  store: PlantStore
  warehouse: ImageCatalog
  /** tells the DHT index that the warehouse changed; absent without peers */
  announce?: (() => void) | undefined
  /** keys of prefixes being learned right now, so that two productions do not build the same image */
  learning: Set<string>
}

/** After a create: counts the request's prefixes, builds the one that is due, then keeps the warehouse within its budget. */
export async function learnAfter (parts: LearningParts, config: LearningConfig, spec: VmSpec, now: () => number, signal: AbortSignal): Promise<{ learned?: string, evicted: string[] }> {
  const { line, store, warehouse, learning } = parts
  const prefix = await duePrefix(warehouse, line.kind, spec, config)
  let learned: string | undefined
  const key = prefix?.map(actionIdentity).join(',')
  if (prefix !== undefined && key !== undefined && !learning.has(key)) {
    learning.add(key)
    try {
      learned = (await learnPrefix(line, warehouse, spec, prefix, now, signal)).id
      parts.announce?.()
    } finally {
      learning.delete(key)
    }
  }
  const inUse = new Set((await store.listVms({ signal })).filter((r) => r.classad.state !== 'crashed').map((r) => r.classad.goldenImage))
  const evicted = config.diskBudgetMB !== undefined ? await evictBeyondBudget(warehouse, config.diskBudgetMB, inUse) : []
  return { ...(learned !== undefined ? { learned } : {}), evicted }
}
