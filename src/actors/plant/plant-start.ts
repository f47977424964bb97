import { domainIdOf } from '../../interface/index.js'
import { reconcile } from './reconcile.js'
import { startNetworks } from './networks.js'
import { background } from './order-effects.js'
import type { PlantState } from './plant-state.js'
import type { PlantComponents, PlantContext } from './components.js'

/**
 * The plant's state at start and after every restart, rebuilt from the store held against the
 * line: the live VMs, the domains' networks; no order survives a restart (its shop retries).
 */
export async function startState (components: PlantComponents, ctx: PlantContext): Promise<PlantState> {
  const { line, store, images } = components
  const { result, live } = await reconcile(line, store, ctx.log)
  const network = await startNetworks({ line, store, hostNetworks: components.hostNetworks }, ctx.log)
  const state: PlantState = { orders: new Map(), vms: new Map(), networks: new Map(), calls: new Map(), reconciled: result, network, learning: new Set() }
  for (const allocation of await store.listNetworks()) state.networks.set(allocation.domain, { allocation, committed: true })
  const records = new Map((await store.listVms()).map((r) => [r.classad.vmid, r]))
  for (const classad of live) {
    const record = records.get(classad.vmid)
    state.vms.set(classad.vmid, { domain: domainIdOf(classad.domain, classad.domainKey), memoryMB: line.memoryCostMB(classad.memoryMB), requestId: record?.requestId ?? '', orderedBy: record?.orderedBy ?? '' })
  }
  // the warm pool is filled for the images the plant holds, not only after a first clone
  background(ctx, 'warming the line', async (signal) => await line.warm((await images.catalog.list()).filter((r) => r.golden.line === line.kind).map((r) => r.golden), { signal }))
  return state
}
