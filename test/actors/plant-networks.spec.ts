import test from 'ava'
import { rootTest } from '../helpers/root.js'
import { ActorSystem, seededRandom } from '../../src/actors/runtime/index.js'
import { plantBehavior } from '../../src/actors/plant/plant.js'
import { plantMessages } from '../../src/actors/plant/messages.js'
import { costModel, COST_DEFAULTS } from '../../src/pricing/index.js'
import { simLine } from '../../src/hypervisor/sim/index.js'
import { hostNetworks } from '../../src/hypervisor/net/index.js'
import { systemClock, type HostNetworks, type ProductionLine } from '../../src/interface/index.js'
import { MemoryNetwork } from '../../sim/memory-transport.js'
import { memoryPlantStore } from '../../sim/memory-store.js'
import type { LevelStore } from '../../src/store/index.js'
import { goldenImages, imageCatalog } from '../../src/images/index.js'
import { linkExists, sweepStaleLinks, testLinkPrefix } from '../helpers/links.js'

async function startPlant (line: ProductionLine, store: LevelStore, networks: HostNetworks) {
  const transport = new MemoryNetwork({ clock: systemClock }).join('plant', { plant: {} })
  const system = new ActorSystem({ clock: systemClock, random: seededRandom(1) })
  const actor = await system.spawn('plant', plantBehavior({ line, store, images: goldenImages({ catalog: imageCatalog(store.warehouse) }), transport, cost: costModel(COST_DEFAULTS), limits: COST_DEFAULTS, memoryCapacityMB: 4096, hostNetworks: networks }))
  return { system, status: await actor.ask(plantMessages.status()) }
}

rootTest('a starting plant makes the bridges its store records and removes the ones of its prefix that no record names', async (t) => {
  await sweepStaleLinks()
  const networks = hostNetworks({ prefix: testLinkPrefix() })
  const store = memoryPlantStore()
  await store.start()
  t.teardown(async () => {
    for (const index of await networks.list()) await networks.remove(index)
    await store.stop()
  })
  const classad = {
    vmid: 'vm-00000000000000bb.plant', plant: 'plant', domain: 'grid', owner: 'client', state: 'running' as const, memoryMB: 64, os: 'linux', arch: 'x86_64',
    line: 'sim', goldenImage: 'g', network: { name: networks.bridgeName(1), index: 1, kind: 'bridge' as const }, cost: 50, createdAt: new Date(0).toISOString(),
    timings: { biddingMs: 0, cloningMs: 0, configuringMs: 0, totalMs: 0 }, actions: { cloned: [], run: [] }, outputs: {}, attributes: {}, recovered: []
  }
  await store.commitVm({ classad, handle: { line: 'sim', vmid: classad.vmid }, requestId: 'r-1', orderedBy: 'shop' }, { domain: 'grid', index: 1, name: networks.bridgeName(1), allocatedAt: new Date(0).toISOString() })
  // a bridge made for a production that never committed (the plant was killed)
  await networks.ensure(2)
  const { system, status } = await startPlant(simLine(), store, networks)
  t.teardown(async () => { await system.stop() })
  t.regex(status.networkMode ?? '', /^bridge: /)
  t.is(status.networks, 1)
  t.deepEqual(await networks.list(), [1])
  t.true(await linkExists(networks.bridgeName(1)))
  t.deepEqual((await store.listNetworks()).map((n) => n.name), [networks.bridgeName(1)], 'the store keeps the network record')
})

test.serial('a plant whose line cannot put a NIC on a bridge offers networkless VMs and says why', async (t) => {
  const line = simLine()
  const noBridge: ProductionLine = new Proxy(line, {
    get (target, key, receiver) {
      if (key === 'capabilities') return () => ({ ...target.capabilities(), bridgeNic: false })
      const value = Reflect.get(target, key, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  const store = memoryPlantStore()
  await store.start()
  // never asked: the plant must not touch the host's links for such a line
  const networks = hostNetworks({ prefix: 'unused' })
  const { system, status } = await startPlant(noBridge, store, networks)
  t.teardown(async () => { await system.stop(); await store.stop() })
  t.is(status.networkMode, 'none: the sim line cannot put a NIC on a bridge')
})

test('a networkless plant charges no network, is not held to maxNetworks, and says so in every model\'s bid', (t) => {
  const load = { runningVms: 2, domains: new Set(['a', 'b', 'c', 'd']), networksInUse: 4, memoryUsedMB: 0, memoryCapacityMB: 8192 }
  const paper = costModel(COST_DEFAULTS)
  t.like(paper(load, { domain: 'e', memoryMB: 64 }), { bid: false, reason: 'all 4 host-only networks are taken by other domains' })
  const networkless = { ...load, networkless: 'no CAP_NET_ADMIN (not root)' }
  t.deepEqual(paper(networkless, { domain: 'e', memoryMB: 64 }), { bid: true, cost: 8, reason: 'compute 4 x 2 VMs = 8, network: none (no CAP_NET_ADMIN (not root))' })
  t.regex((costModel({ ...COST_DEFAULTS, model: 'memory' })(networkless, { domain: 'e', memoryMB: 64 }) as { reason: string }).reason, /network: none \(no CAP_NET_ADMIN/)
  t.regex((costModel({ ...COST_DEFAULTS, model: 'random' }, { random: seededRandom(3) })(networkless, { domain: 'e', memoryMB: 64 }) as { reason: string }).reason, /network: none \(no CAP_NET_ADMIN/)
})
