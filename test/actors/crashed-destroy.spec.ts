import test from 'ava'
import { ActorSystem, seededRandom } from '../../src/actors/runtime/index.js'
import { plantBehavior } from '../../src/actors/plant/plant.js'
import { plantMessages } from '../../src/actors/plant/messages.js'
import { costModel, COST_DEFAULTS } from '../../src/pricing/index.js'
import { simLine } from '../../src/hypervisor/sim/index.js'
import { domainIdOf, systemClock } from '../../src/interface/index.js'
import { MemoryNetwork } from '../../sim/memory-transport.js'
import { memoryPlantStore } from '../../sim/memory-store.js'
import { goldenImages, imageCatalog } from '../../src/images/index.js'

const domain = { name: 'grid', key: 'k-grid' }

/** A VM of `grid` on network slot 1, recorded by a plant whose line no longer has it (it crashed while the plant was down). */
function crashedRecord () {
  const classad = {
    vmid: 'vm-00000000000000cc.plant', plant: 'plant', domain: domain.name, domainKey: domain.key, owner: 'client', state: 'running' as const, memoryMB: 64,
    os: 'linux', arch: 'x86_64', line: 'sim', goldenImage: 'g', network: { name: 'hostonly-1', index: 1 }, cost: 50,
    createdAt: new Date(0).toISOString(), timings: { biddingMs: 0, cloningMs: 0, configuringMs: 0, totalMs: 0 }, actions: { cloned: [], run: [] },
    outputs: {}, attributes: {}, recovered: []
  }
  const network = { domain: domainIdOf(domain.name, domain.key), index: 1, name: 'hostonly-1', allocatedAt: new Date(0).toISOString() }
  return { record: { classad, handle: { line: 'sim', vmid: classad.vmid }, requestId: 'r-1', orderedBy: 'shop' }, network }
}

test('destroying a VM found crashed releases its domain\'s network slot, also after a restart (the leak of issue 20)', async (t) => {
  const store = memoryPlantStore()
  await store.start()
  t.teardown(async () => { await store.stop() })
  const { record, network } = crashedRecord()
  await store.commitVm(record, network)

  const transport = new MemoryNetwork({ clock: systemClock }).join('plant', { plant: {} })
  const system = new ActorSystem({ clock: systemClock, random: seededRandom(1) })
  t.teardown(async () => { await system.stop() })
  const plant = await system.spawn('plant', plantBehavior({ line: simLine(), store, images: goldenImages({ catalog: imageCatalog(store.warehouse) }), transport, cost: costModel(COST_DEFAULTS), limits: COST_DEFAULTS, memoryCapacityMB: 4096 }))

  const before = await plant.ask(plantMessages.status())
  t.is(before.networks, 1, 'the crashed VM\'s record still holds its domain\'s network')
  t.is((await plant.ask(plantMessages.query(record.classad.vmid, 'client', [domain]))).state, 'crashed')

  await plant.ask(plantMessages.destroy(record.classad.vmid, 'client', [domain]))
  const after = await plant.ask(plantMessages.status())
  t.is(after.vms, 0)
  t.is(after.networks, 0, 'no slot is left counting against maxNetworks')
  t.deepEqual(await store.listNetworks(), [], 'the network record went with the VM\'s')
  t.is(await store.getVm(record.classad.vmid), undefined)
})
