import test from 'ava'
import { join } from 'node:path'
import { federationWithClient } from '../helpers/federation.js'
import { plantStore } from '../../src/store/index.js'
import { simLine } from '../../src/hypervisor/sim/index.js'
import { evictBeyondBudget, imageCatalog } from '../../src/images/index.js'
import { tempDir } from '../helpers/temp.js'

const spec = (user: string) => ({
  hardware: { memoryMB: 64, os: 'linux' },
  actions: [
    { id: 'os', run: 'echo base system' },
    { id: 'vnc', run: 'echo vnc server', after: ['os'] },
    { id: 'user', run: `echo user=${user}`, after: ['vnc'] }
  ]
})

test('a prefix requested N times becomes a golden image, and later creates clone it', async (t) => {
  const fixture = await federationWithClient({ plants: 1, plant: { learning: { after: 2 } } })
  t.teardown(fixture.stop)
  const first = await fixture.client.create(spec('ana'), 'lab')
  t.deepEqual(first.classad.actions.cloned, [])
  await fixture.client.create(spec('bo'), 'lab')
  // the common prefix (os, vnc) has now been asked for twice: the plant learns it in the background
  const plant = fixture.federation.plants[0]!
  const warehouse = (plant as unknown as { store: ReturnType<typeof plantStore> }).store.warehouse
  const deadline = Date.now() + 10_000
  while (!(await warehouse.list()).some((r) => r.source === 'learned')) {
    if (Date.now() > deadline) throw new Error('no image was learned')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const learned = (await warehouse.list()).filter((r) => r.source === 'learned')
  t.is(learned.length, 1)
  t.is(learned[0]?.descriptor.applied.length, 2, 'only the shared prefix, not the per-user action')
  const third = await fixture.client.create(spec('cy'), 'lab')
  t.deepEqual(third.classad.actions.cloned, ['os', 'vnc'])
  t.deepEqual(third.classad.actions.run, ['user'])
  t.is(third.classad.goldenImage, learned[0]?.id as string)
})

test('images beyond the disk budget are evicted least recently used first, but never one a running VM uses', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const store = plantStore(join(dir.path, 'store'))
  await store.start()
  t.teardown(async () => { await store.stop() })
  const line = simLine({ dir: join(dir.path, 'line') })
  const ids: string[] = []
  for (const [i, memoryMB] of [64, 128, 256].entries()) {
    const golden = await line.prepareGolden({ hardware: { memoryMB, os: 'linux', arch: 'x86_64' }, actions: [] })
    ids.push((await imageCatalog(store.warehouse).add(golden, 'built', 1000 + i)).id)
  }
  await store.warehouse.touch(ids[0] as string, 5000)
  // 0 MB: everything must go, except the image a running VM was cloned from
  const evicted = await evictBeyondBudget(imageCatalog(store.warehouse), 0, new Set([ids[2] as string]))
  t.deepEqual(evicted, [ids[1], ids[0]], 'the least recently used first')
  t.deepEqual((await store.warehouse.list()).map((r) => r.id), [ids[2]])
  t.deepEqual(await evictBeyondBudget(imageCatalog(store.warehouse), 1, new Set()), [], 'within the budget nothing goes')
})
