import test from 'ava'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { createNode, type VmplantLibp2p } from '../../src/net/node.js'
import { PROTOCOLS } from '../../src/net/protocols.js'
import { plantStore, type LevelStore } from '../../src/store/index.js'
import { digestFile, type WarehouseRecord } from '../../src/interface/index.js'
import { actionIdentity } from '../../src/planner/index.js'
import { imageNetwork } from '../../src/net/protocols/image/index.js'
import { imageCatalog, peerImages, DigestMismatchError, type PeerImages, type PeerImagesEvent, type DownloadProgress } from '../../src/images/index.js'
import { tempDir } from '../helpers/temp.js'
import { CHAIN_SPEC } from '../helpers/fixtures-shared.js'

interface Plant { node: VmplantLibp2p, store: LevelStore, images: PeerImages, dir: string }

const SPEC = CHAIN_SPEC
const APPLIED = SPEC.actions.slice(0, 3).map(actionIdentity)

let root: Awaited<ReturnType<typeof tempDir>>
let holder: Plant
let fetcher: Plant
const events: PeerImagesEvent[] = []

async function startPlant (name: string): Promise<Plant> {
  const dir = join(root.path, name)
  const node = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], logPrefix: `test:${name}` })
  const store = plantStore(join(dir, 'store'))
  await store.start()
  const images = peerImages({ catalog: imageCatalog(store.warehouse), network: imageNetwork(node) }, { dir: join(dir, 'images'), logPrefix: `test:${name}:images` })
  await node.start()
  await images.start()
  return { node, store, images, dir }
}

async function stopPlant (plant: Plant | undefined): Promise<void> {
  await plant?.images.stop()
  await plant?.node.stop()
  await plant?.store.stop()
}

/** Publishes an image into the holder's warehouse whose artifacts are random files of these sizes. */
async function publish (sizes: Record<string, number>, applied = APPLIED): Promise<WarehouseRecord> {
  const dir = join(holder.dir, 'golden', randomBytes(4).toString('hex'))
  await mkdir(dir, { recursive: true })
  const artifacts: Record<string, string> = {}
  for (const [name, bytes] of Object.entries(sizes)) {
    artifacts[name] = `${name}.bin`
    await writeFile(join(dir, `${name}.bin`), randomBytes(bytes))
  }
  return await imageCatalog(holder.store.warehouse).add({ id: '', line: 'sim', hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' }, applied, dir, artifacts, createdAt: 0 }, 'published', Date.now())
}

/** sends one raw frame on the image protocol and returns the decoded answer frame */
async function raw (body: Uint8Array): Promise<any> {
  const stream = await fetcher.node.dialProtocol(holder.node.peerId, PROTOCOLS.image)
  const lp = lpStream(stream, { maxDataLength: 1024 * 1024 })
  await lp.write(body)
  const answer = await lp.read({ signal: AbortSignal.timeout(10_000) })
  await stream.close()
  return JSON.parse(new TextDecoder().decode(answer.subarray()))
}
const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))

/** every file under a folder, recursively */
async function filesUnder (dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

test.before(async () => {
  root = await tempDir()
  holder = await startPlant('holder')
  fetcher = await startPlant('fetcher')
  fetcher.images.onEvent((event) => events.push(event))
  await fetcher.node.dial(holder.node.getMultiaddrs()[0]!)
})

test.after.always(async () => {
  await stopPlant(fetcher)
  await stopPlant(holder)
  await root?.remove()
})

test.serial('a fetched image is verified and laid out under the holder\'s file names', async (t) => {
  const published = await publish({ disk: 300_000, memory: 20_000 })
  const record = await fetcher.images.fetch({ peer: holder.node.peerId.toString(), id: published.id })
  t.is(record.id, published.id)
  t.is(record.source, 'fetched')
  t.deepEqual(record.descriptor, published.descriptor)
  t.deepEqual(record.golden.artifacts, { disk: 'disk.bin', memory: 'memory.bin' })
  t.is(record.golden.dir, join(fetcher.dir, 'images', published.id))
  for (const artifact of record.descriptor.artifacts) {
    const digest = await digestFile(join(record.golden.dir, record.golden.artifacts[artifact.name]!))
    t.deepEqual(digest, { sha256: artifact.sha256, bytes: artifact.bytes })
  }
  t.false((await filesUnder(record.golden.dir)).some((f) => f.endsWith('.part')))
  await fetcher.store.warehouse.put(record)
  t.is((await fetcher.store.warehouse.get(published.id))?.source, 'fetched')
  t.like(events.at(-1), { type: 'image.fetched', id: published.id })
})

test.serial('a corrupted artifact is refused with DigestMismatchError and leaves no file', async (t) => {
  const published = await publish({ disk: 200_000, memory: 1000 })
  const file = join(published.golden.dir, 'memory.bin')
  const bytes = await readFile(file)
  bytes[500] = (bytes[500] as number) ^ 0xff
  await writeFile(file, bytes)
  const error = await t.throwsAsync(fetcher.images.fetch({ peer: holder.node.peerId.toString(), id: published.id }), { instanceOf: DigestMismatchError })
  t.is(error?.artifact, 'memory')
  t.is<string | undefined, string | undefined>(error?.expected, published.descriptor.artifacts.find((a) => a.name === 'memory')?.sha256)
  t.deepEqual(await filesUnder(join(fetcher.dir, 'images', published.id)), [], 'neither the .part nor the verified disk stays')
  t.is(await fetcher.store.warehouse.get(published.id), undefined)
  const failed = events.at(-1)
  t.is(failed?.type, 'image.failed')
  t.true(failed?.type === 'image.failed' && failed.error instanceof DigestMismatchError)
})

test.serial('an interrupted transfer resumes from the size of its .part file', async (t) => {
  const published = await publish({ disk: 4 * 1024 * 1024, memory: 1000 })
  const peer = holder.node.peerId.toString()
  const part = join(fetcher.dir, 'images', published.id, 'disk.bin.part')
  const controller = new AbortController()
  const onProgress = (event: DownloadProgress): void => {
    if (event.type === 'artifact.progress' && event.received >= 1024 * 1024) controller.abort(new Error('cable pulled'))
  }
  await t.throwsAsync(fetcher.images.fetch({ peer, id: published.id }, { signal: controller.signal, onProgress }), { message: 'cable pulled' })
  const partial = (await stat(part)).size
  t.true(partial >= 1024 * 1024 && partial < 4 * 1024 * 1024, `the .part holds ${partial} bytes`)

  const starts: DownloadProgress[] = []
  const record = await fetcher.images.fetch({ peer, id: published.id }, { onProgress: (event) => { if (event.type === 'artifact.start') starts.push(event) } })
  t.like(starts.find((e) => e.name === 'disk'), { offset: partial, bytes: 4 * 1024 * 1024 })
  t.like(starts.find((e) => e.name === 'memory'), { offset: 0 })
  t.deepEqual(await digestFile(join(record.golden.dir, 'disk.bin')), { sha256: published.descriptor.artifacts[0]!.sha256, bytes: 4 * 1024 * 1024 })
  t.false(existsSync(part))
})

test.serial('malformed requests are answered with errors that name the problem', async (t) => {
  const published = await publish({ disk: 1000 })
  const notJson = await raw(new TextEncoder().encode('{not json'))
  t.like(notJson, { ok: false, error: { code: 'MalformedMessageError' } })
  t.regex(notJson.error.message, /not valid UTF-8 JSON/)
  const wrongShape = await raw(json({ type: 'artifact', id: published.id, name: 'disk', offset: -1 }))
  t.like(wrongShape, { ok: false, error: { code: 'MalformedMessageError' } })
  t.regex(wrongShape.error.message, /malformed at offset/)
  const oversized = await raw(json({ type: 'descriptor', id: 'b'.repeat(8000) }))
  t.like(oversized, { ok: false, error: { code: 'MalformedMessageError' } })
  t.regex(oversized.error.message, /over the limit of 4096 bytes/)
  const unknown = await raw(json({ type: 'descriptor', id: 'bagaaiera' + 'a'.repeat(50) }))
  t.like(unknown, { ok: false, error: { code: 'ImageNotHeldError' } })
  const pastEnd = await raw(json({ type: 'artifact', id: published.id, name: 'disk', offset: 1001 }))
  t.like(pastEnd, { ok: false, error: { code: 'MalformedMessageError' } })
  t.regex(pastEnd.error.message, /past the end/)
  const descriptor = await raw(json({ type: 'descriptor', id: published.id }))
  t.like(descriptor, { ok: true, value: { descriptor: published.descriptor, files: { disk: 'disk.bin' } } })
})

test.serial('only artifacts named in the descriptor of a held image are served', async (t) => {
  const published = await publish({ disk: 1000 })
  await writeFile(join(published.golden.dir, 'secret'), 'not an artifact')
  const unlisted = await raw(json({ type: 'artifact', id: published.id, name: 'secret', offset: 0 }))
  t.like(unlisted, { ok: false, error: { code: 'ImageNotHeldError' } })
  t.regex(unlisted.error.message, /no artifact named secret/)
  for (const name of ['../store', '/etc/passwd', '.hidden', 'disk/../../x']) {
    const traversal = await raw(json({ type: 'artifact', id: published.id, name, offset: 0 }))
    t.like(traversal, { ok: false, error: { code: 'MalformedMessageError' } }, name)
    t.regex(traversal.error.message, /plain artifact name/)
  }
})

test.serial('a plant finds the holder of an image through the DHT by its prefix keys and by its id', async (t) => {
  const published = await publish({ disk: 1000 })
  await holder.images.provide({ signal: AbortSignal.timeout(30_000) })
  const candidates = await fetcher.images.candidates(SPEC, 'sim', { signal: AbortSignal.timeout(30_000) })
  const best = candidates[0]
  t.is(best?.peer, holder.node.peerId.toString())
  t.is(best?.saves, 3, 'the images saving the first three actions come first')
  t.true(candidates.some((c) => c.id === published.id))
  t.true(candidates.every((c) => c.saves === 3))
  t.deepEqual(await fetcher.images.candidates(SPEC, 'sim', { minSaves: 4 }), [], 'nothing saves all four')
  t.deepEqual(await fetcher.images.candidates(SPEC, 'qemu'), [], 'a sim image is no use to a qemu line')
  t.deepEqual(await fetcher.images.holders(published.id), [holder.node.peerId.toString()])
})
