import test from 'ava'
import { join } from 'node:path'
import { createLine } from '../../src/daemon/create-line.js'
import { plantStore } from '../../src/store/index.js'
import { tempDir } from '../helpers/temp.js'
import { federationWithClient, SMALL_SPEC } from '../helpers/federation.js'
import { VmplantNode } from '../../src/daemon/vmplant-node.js'
import { domainIdOf, type Classad } from '../../src/interface/messages.js'

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
  await store.commitVm({ classad: ad('vm-1', 'grid'), handle: { token: 'a' }, requestId: 'r-1', orderedBy: 'shop' }, { domain: 'grid', index: 0, name: 'hostonly-0', allocatedAt: 'now' })
  await store.commitVm({ classad: ad('vm-2', 'grid'), handle: { token: 'b' }, requestId: 'r-2', orderedBy: 'shop' })
  t.is((await store.listVms()).length, 2)
  t.deepEqual((await store.listNetworks()).map((n) => n.domain), ['grid'])
  await store.removeVm('vm-1')
  await store.removeVm('vm-2', 'grid')
  t.deepEqual(await store.listVms(), [])
  t.deepEqual(await store.listNetworks(), [])
  await store.stop()
  await store.stop()
})

test('a plant restarted on its store re-attaches its VMs, knows its networks, and marks VMs whose line lost them as crashed', async (t) => {
  const fixture = await federationWithClient({ plants: 1 })
  t.teardown(fixture.stop)
  const first = await fixture.client.create(SMALL_SPEC, 'grid')
  const second = await fixture.client.create(SMALL_SPEC, 'grid')
  t.is(second.classad.cost, 4)
  const old = fixture.federation.plants[0]!
  await old.stop()
  // the sim line keeps its VMs in files beside the plant, as QEMU and UML keep theirs running;
  // one of them is lost while the plant is down
  const line = createLine(old.config.plant.driver, join(old.config.dataDir, 'line'))
  await line.start()
  await line.destroy(first.classad.vmid)
  await line.stop()
  const again = new VmplantNode(old.config, { name: 'plant-again' })
  t.teardown(async () => { await again.stop() })
  await again.start()
  const store = (again as unknown as { store: ReturnType<typeof plantStore> }).store
  const states = Object.fromEntries((await store.listVms()).map((r) => [r.classad.vmid, r.classad.state]))
  t.deepEqual(states, { [first.classad.vmid]: 'crashed', [second.classad.vmid]: 'running' })
  t.deepEqual((await again.plantStatus()).reconciled, { recovered: 1, orphansDestroyed: 0, markedCrashed: 1 })
  // a domain is its name and its key: the network is the one of this client's "grid"
  t.deepEqual((await store.listNetworks()).map((n) => n.domain), [domainIdOf('grid', second.classad.domainKey)])
})
