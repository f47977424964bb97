import { VmNotFoundError, type Classad, type PlantStore, type ProductionLine } from '../../interface/index.js'
import type { ActorContext } from '../runtime/index.js'

/** What a plant found at start when it held its store against its line. */
export interface Reconciliation {
  /** records whose VM was re-attached */
  recovered: number
  /** line VMs that no record knows (a plant killed between clone and commit): destroyed */
  orphansDestroyed: number
  /** records whose VM is gone: marked crashed */
  markedCrashed: number
}

/**
 * The store is the source of truth: every record's VM is re-attached from its handle, or marked
 * crashed when it is gone; every line VM without a record is destroyed. Both are logged.
 */
export async function reconcile (line: ProductionLine, store: PlantStore, log: ActorContext<any>['log']): Promise<{ result: Reconciliation, live: Classad[] }> {
  const result: Reconciliation = { recovered: 0, orphansDestroyed: 0, markedCrashed: 0 }
  const records = await store.listVms()
  const known = new Set(records.map((r) => r.classad.vmid))
  const live: Classad[] = []
  for (const record of records) {
    if (record.classad.state === 'crashed') continue
    try {
      await line.recover(record.classad.vmid, record.handle)
      result.recovered++
      live.push(record.classad)
    } catch (err) {
      if (!(err instanceof VmNotFoundError)) throw err
      await store.updateVm({ ...record, classad: { ...record.classad, state: 'crashed' } })
      result.markedCrashed++
      log('VM %s is gone from the %s line; marked crashed', record.classad.vmid, line.kind)
    }
  }
  for (const vm of await line.list()) {
    if (known.has(vm.vmid)) continue
    await line.destroy(vm.vmid)
    result.orphansDestroyed++
    log('destroyed %s: a %s line VM with no record (a production that never committed)', vm.vmid, line.kind)
  }
  if (result.orphansDestroyed + result.markedCrashed > 0) log('reconciled: %d re-attached, %d orphans destroyed, %d marked crashed', result.recovered, result.orphansDestroyed, result.markedCrashed)
  return { result, live }
}
