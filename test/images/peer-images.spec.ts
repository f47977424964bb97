import test from 'ava'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { actionIdentity } from '../../src/planner/index.js'
import { digestFile, type WarehouseRecord } from '../../src/interface/index.js'
import { DigestMismatchError, goldenImages, imageCatalog, peerImages, rankCandidates, type ImageCatalog, type PeerImages, type PeerImagesEvent, type RemoteCandidate } from '../../src/images/index.js'
import type { LevelStore } from '../../src/store/index.js'
import { memoryPlantStore } from '../../sim/memory-store.js'
import { MemoryImageNetworks } from '../helpers/memory-image-network.js'
import { tempDir } from '../helpers/temp.js'
import { CHAIN_SPEC } from '../helpers/fixtures-shared.js'

const SPEC = CHAIN_SPEC
const applied = (n: number): string[] => SPEC.actions.slice(0, n).map(actionIdentity)

interface Plant { name: string, store: LevelStore, catalog: ImageCatalog, peers: PeerImages, dir: string }

async function federation<N extends string> (t: { teardown: (fn: () => Promise<void>) => void }, names: N[]): Promise<{ networks: MemoryImageNetworks, plants: Record<N, Plant> }> {
  const root = await tempDir()
  const networks = new MemoryImageNetworks()
  const plants: Plant[] = []
  for (const name of names) {
    const store = memoryPlantStore()
    await store.start()
    const catalog = imageCatalog(store.warehouse)
    const dir = join(root.path, name)
    const peers = peerImages({ catalog, network: networks.join(name) }, { dir: join(dir, 'images'), logPrefix: `test:${name}:images` })
    await peers.start()
    plants.push({ name, store, catalog, peers, dir })
  }
  t.teardown(async () => {
    for (const plant of plants) { await plant.peers.stop(); await plant.store.stop() }
    await root.remove()
  })
  return { networks, plants: Object.fromEntries(plants.map((p) => [p.name, p])) as Record<N, Plant> }
}

/** An image of `actions` actions in the plant's warehouse, its artifacts random files (or copies of `like`'s), provided on the DHT. */
async function publish (plant: Plant, actions: number, like?: WarehouseRecord): Promise<WarehouseRecord> {
  const dir = join(plant.dir, 'golden', randomBytes(4).toString('hex'))
  await mkdir(dir, { recursive: true })
  const artifacts = { disk: 'disk.bin', memory: 'memory.bin' }
  for (const [name, file] of Object.entries(artifacts)) {
    if (like !== undefined) await copyFile(join(like.golden.dir, like.golden.artifacts[name] as string), join(dir, file))
    else await writeFile(join(dir, file), randomBytes(name === 'disk' ? 200_000 : 30_000))
  }
  const record = await plant.catalog.add({ id: '', line: 'sim', hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' }, applied: applied(actions), dir, artifacts, createdAt: 0 }, 'published', Date.now())
  await plant.peers.provide()
  return record
}

async function verified (record: WarehouseRecord): Promise<boolean> {
  for (const artifact of record.descriptor.artifacts) {
    const digest = await digestFile(join(record.golden.dir, record.golden.artifacts[artifact.name] as string))
    if (digest.sha256 !== artifact.sha256 || digest.bytes !== artifact.bytes) return false
  }
  return !(await readdir(record.golden.dir)).some((f) => f.endsWith('.part'))
}

test('fetchBetter takes the peer image that saves the most actions, checks it and records it as fetched', async (t) => {
  const { fetcher, two, three } = (await federation(t, ['fetcher', 'two', 'three'])).plants
  await publish(two, 2)
  const best = await publish(three, 3)
  const record = await fetcher.peers.fetchBetter(SPEC, 'sim')
  t.is(record?.id, best.id)
  t.is((await fetcher.catalog.get(best.id))?.source, 'fetched', 'the fetch wrote the warehouse')
  t.true(record !== undefined && await verified(record))
  t.is(await fetcher.peers.fetchBetter(SPEC, 'sim', { localSaves: 3 }), undefined, 'nothing saves more than the three actions it holds now')
})

test('a corrupted copy is refused and deleted, and the next holder of the same image is tried', async (t) => {
  const { fetcher, bad, good } = (await federation(t, ['fetcher', 'bad', 'good'])).plants
  const published = await publish(bad, 3)
  const copy = await publish(good, 3, published)
  t.is(copy.id, published.id, 'the same files are the same image')
  const file = join(published.golden.dir, 'memory.bin')
  const bytes = await readFile(file)
  bytes[100] = (bytes[100] as number) ^ 0xff
  await writeFile(file, bytes)
  const events: PeerImagesEvent[] = []
  fetcher.peers.onEvent((event) => { if (event.type !== 'image.progress') events.push(event) })

  const record = await fetcher.peers.fetchBetter(SPEC, 'sim')
  t.is(record?.id, published.id)
  t.deepEqual(events.map((e) => [e.type, e.peer]), [['image.failed', 'bad'], ['image.fetched', 'good']])
  t.true(events[0]?.type === 'image.failed' && events[0].error instanceof DigestMismatchError)
  t.true(record !== undefined && await verified(record))
  t.is((await fetcher.catalog.get(published.id))?.source, 'fetched')
})

test('a corrupted image from its only holder leaves neither a record nor a file', async (t) => {
  const { fetcher, bad } = (await federation(t, ['fetcher', 'bad'])).plants
  const published = await publish(bad, 2)
  await writeFile(join(published.golden.dir, 'disk.bin'), randomBytes(200_000))
  t.is(await fetcher.peers.fetchBetter(SPEC, 'sim'), undefined)
  t.deepEqual(await fetcher.catalog.list(), [])
  t.false(existsSync(join(fetcher.dir, 'images', published.id)))
})

test('bestFor answers from the warehouse without asking the network, and fetches only when allowed', async (t) => {
  const { networks, plants: { fetcher, holder } } = await federation(t, ['fetcher', 'holder'])
  const held = await publish(holder, 3)
  const images = goldenImages({ catalog: fetcher.catalog, peers: fetcher.peers })
  const asked = networks.calls.providers
  t.is(await images.bestFor(SPEC, 'sim'), undefined, 'fetching is off unless asked for')
  t.is(networks.calls.providers, asked, 'and then the DHT is not asked')
  const fetched = await images.bestFor(SPEC, 'sim', { fetch: true })
  t.is(fetched?.record.id, held.id)
  t.is(fetched?.record.source, 'fetched')
  t.deepEqual(fetched?.plan.cloned.map((a) => a.id), ['os', 'vnc', 'files'])
  t.deepEqual(fetched?.plan.remaining.map((a) => a.id), ['ip'])
  const lookups = networks.calls.providers
  t.is((await images.bestFor(SPEC, 'sim', { fetch: true }))?.record.id, held.id)
  t.is(networks.calls.providers, lookups, 'an image in the warehouse is used without a lookup')
  t.is(await goldenImages({ catalog: imageCatalog(memoryPlantStore().warehouse) }).bestFor(SPEC, 'sim', { fetch: true }), undefined, 'without peers there is nothing to fetch')
})

test('a catalogue\'s index follows changes made through another catalogue of the same warehouse', async (t) => {
  const { plant } = (await federation(t, ['plant', 'peer'])).plants
  t.is((await plant.catalog.index('sim')).images.length, 0)
  const other = imageCatalog(plant.store.warehouse)
  const record = await publish({ ...plant, catalog: other }, 1)
  t.deepEqual((await plant.catalog.index('sim')).images.map((i) => i.id), [record.id])
  await other.discard(record.id)
  t.is((await plant.catalog.index('sim')).images.length, 0)
  t.false(existsSync(join(record.golden.dir, 'disk.bin')), 'discard removed the files no other image uses')
})

test('candidates rank by actions saved, then by fewer bytes, then by id', (t) => {
  const candidate = (id: string, saves: number, bytes: number): RemoteCandidate => ({
    peer: 'p', id, saves, descriptor: { format: 'vmplant.golden/1', line: 'sim', hardware: { arch: 'x86_64', os: 'linux', memoryMB: 64, diskMB: 1024 }, applied: [], artifacts: [{ name: 'disk', sha256: '0'.repeat(64), bytes }] }
  })
  const ranked = rankCandidates([candidate('c', 2, 10), candidate('b', 3, 20), candidate('a', 3, 20), candidate('d', 3, 5)])
  t.deepEqual(ranked.map((c) => c.id), ['d', 'a', 'b', 'c'])
})
