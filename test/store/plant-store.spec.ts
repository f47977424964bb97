import '../../src/polyfill.js'
import test from 'ava'
import { join } from 'node:path'
import { plantStore } from '../../src/store/index.js'
import { tempDir } from '../helpers/temp.js'
import { federationWithClient, SMALL_SPEC } from '../helpers/federation.js'
import { VmplantNode } from '../../src/daemon/vmplant-node.js'
import type { Classad } from '../../src/net/wire.js'

const ad = (vmid: string, domain: string): Classad => ({
  vmid, plant: '12D3KooWExamplePlantPeerId', domain, owner: '12D3KooWExampleOwnerPeerId', state: 'running', memoryMB: 64, os: 'linux', arch: 'x86_64',
  line: 'sim', goldenImage: 'g', network: { name: 'hostonly-0', index: 0 }, cost: 50, createdAt: new Date(0).toISOString(),
  timings: { biddingMs: 1, cloningMs: 1, configuringMs: 1, totalMs: 3 }, actions: { cloned: [], run: [] }, outputs: {}, attributes: {}, recovered: []
})

test('a VM and its domain\'s new network are written together, and removed together', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const store = plantStore(join(dir.path, 'db'))
  await store.start()
  await store.commitVm({ classad: ad('vm-1', 'grid') }, { domain: 'grid', index: 0, name: 'hostonly-0', allocatedAt: 'now' })
  await store.commitVm({ classad: ad('vm-2', 'grid') })
  t.is((await store.listVms()).length, 2)
  t.deepEqual((await store.listNetworks()).map((n) => n.domain), ['grid'])
  await store.removeVm('vm-1')
  await store.removeVm('vm-2', 'grid')
  t.deepEqual(await store.listVms(), [])
  t.deepEqual(await store.listNetworks(), [])
  await store.stop()
  await store.stop()
})

test('a plant restarted on its store knows its networks, and marks VMs whose process is gone as crashed', async (t) => {
  const fixture = await federationWithClient({ plants: 1 })
  t.teardown(fixture.stop)
  const first = await fixture.client.create(SMALL_SPEC, 'grid')
  const second = await fixture.client.create(SMALL_SPEC, 'grid')
  t.is(second.classad.cost, 4)
  const old = fixture.federation.plants[0]!
  await old.stop()
  // the sim line keeps its VMs in memory, so after a restart they are gone: the plant must notice
  const again = new VmplantNode(old.config, { name: 'plant-again' })
  t.teardown(async () => { await again.stop() })
  await again.start()
  const store = (again as unknown as { store: ReturnType<typeof plantStore> }).store
  const records = await store.listVms()
  t.deepEqual(records.map((r) => r.classad.state).sort(), ['crashed', 'crashed'])
  t.deepEqual((await store.listNetworks()).map((n) => n.domain), ['grid'])
  t.truthy(first)
})
