import test from 'ava'
import { ActorSystem, seededRandom } from '../../src/actors/runtime/index.js'
import { plantBehavior } from '../../src/actors/plant/plant.js'
import { plantMessages } from '../../src/actors/plant/messages.js'
import { costModel, COST_DEFAULTS } from '../../src/pricing/index.js'
import { simLine } from '../../src/hypervisor/sim/index.js'
import type { GoldenImage, ProductionLine, Transport } from '../../src/interface/index.js'
import { VirtualClock } from '../../sim/virtual-clock.js'
import { MemoryNetwork } from '../../sim/memory-transport.js'
import type { LevelStore } from '../../src/store/index.js'
import { memoryPlantStore } from '../../sim/memory-store.js'
import { goldenImages, imageCatalog } from '../../src/images/index.js'

async function plantOn (line: ProductionLine, store: LevelStore, clock: VirtualClock): Promise<{ system: ActorSystem, transport: Transport }> {
  const transport = new MemoryNetwork({ clock }).join('plant', { plant: {} })
  const system = new ActorSystem({ clock, random: seededRandom(1) })
  const actor = await clock.run(system.spawn('plant', plantBehavior({ line, store, images: goldenImages({ catalog: imageCatalog(store.warehouse) }), transport, cost: costModel(COST_DEFAULTS), limits: COST_DEFAULTS, memoryCapacityMB: 4096 })))
  await clock.run(actor.ask(plantMessages.status()))
  return { system, transport }
}

test('a starting plant fills its line\'s warm pool with the golden images its warehouse holds', async (t) => {
  const clock = new VirtualClock()
  const line = simLine({ clock })
  const warmed: string[][] = []
  const watched: ProductionLine = new Proxy(line, {
    get (target, key, receiver) {
      if (key === 'warm') return async (goldens: GoldenImage[]) => { warmed.push(goldens.map((g) => g.id)) }
      const value = Reflect.get(target, key, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  const store = memoryPlantStore()
  await store.start()
  const golden = await clock.run(line.prepareGolden({ hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' }, actions: [] }))
  const record = await imageCatalog(store.warehouse).add({ ...golden, applied: [] }, 'built', clock.now())
  const { system } = await plantOn(watched, store, clock)
  t.teardown(async () => { await system.stop(); await store.stop() })
  t.deepEqual(warmed, [[record.golden.id]])
})

test('a starting plant destroys line VMs that no record knows, and marks records whose VM is gone as crashed', async (t) => {
  const clock = new VirtualClock()
  const line = simLine({ clock })
  const store = memoryPlantStore()
  await store.start()
  const golden = await clock.run(line.prepareGolden({ hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' }, actions: [] }))
  // an orphan: cloned by a plant that died before it committed
  await clock.run(line.clone(golden, 'vm-00000000000000aa.plant'))
  // a record whose VM the line no longer has
  const classad = {
    vmid: 'vm-00000000000000bb.plant', plant: 'plant', domain: 'grid', owner: 'client', state: 'running' as const, memoryMB: 64, os: 'linux', arch: 'x86_64',
    line: 'sim', goldenImage: golden.id, network: { name: 'hostonly-0', index: 0 }, cost: 50, createdAt: new Date(0).toISOString(),
    timings: { biddingMs: 0, cloningMs: 0, configuringMs: 0, totalMs: 0 }, actions: { cloned: [], run: [] }, outputs: {}, attributes: {}, recovered: []
  }
  await store.commitVm({ classad, handle: { line: 'sim', vmid: classad.vmid }, requestId: 'r-1', orderedBy: 'shop' })
  const { system } = await plantOn(line, store, clock)
  t.teardown(async () => { await system.stop(); await store.stop() })
  t.deepEqual(await clock.run(line.list()), [], 'the orphan was destroyed')
  t.deepEqual((await store.listVms()).map((r) => r.classad.state), ['crashed'])
})
