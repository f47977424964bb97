import test from 'ava'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { waitForBidders } from '../../src/daemon/embedded.js'
import { VmplantClient } from '../../src/cli/client.js'
import { dhtReady, nodeSet } from '../helpers/nodes.js'
import { publishGolden } from '../helpers/publish.js'
import { simLine } from '../../src/hypervisor/sim/index.js'
import { DigestMismatchError, type PeerImagesEvent } from '../../src/images/index.js'

/** the paper's Figure 3 workspace, shortened: the holder has the first three steps checkpointed */
const WORKSPACE = {
  hardware: { memoryMB: 64, os: 'linux' },
  actions: [
    { id: 'os', run: 'echo os' },
    { id: 'vnc', run: 'echo vnc', after: ['os'] },
    { id: 'files', run: 'echo files', after: ['vnc'] },
    { id: 'ip', run: 'echo ip=10.0.0.7', after: ['files'], exports: ['ip'] }
  ]
}
const DATABASE = {
  hardware: { memoryMB: 64, os: 'linux' },
  actions: [
    { id: 'db', run: 'echo db' },
    { id: 'schema', run: 'echo schema', after: ['db'] }
  ]
}

/** Builds a golden image of the spec's first `steps` actions on the sim line and catalogues it, as `vmplant image publish` would. */
async function publish (dataDir: string, input: unknown, steps: number): Promise<{ id: string, artifact: string }> {
  const { id, golden } = await publishGolden(simLine({ dir: join(dataDir, 'line') }), dataDir, input, steps)
  return { id, artifact: join(golden.dir, golden.artifacts.disk as string) }
}

test('a plant without the golden image finds its holder through the DHT, fetches and verifies it, and serves a create from it; a corrupted artifact is refused', async (t) => {
  const { dir, start } = await nodeSet(t)
  let client: VmplantClient | undefined
  t.teardown(async () => { await client?.stop() })

  // the holder has both images but only 32 MB for VMs, so every create of 64 MB goes to the other plant
  const workspace = await publish(join(dir, 'holder'), WORKSPACE, 3)
  const database = await publish(join(dir, 'holder'), DATABASE, 1)
  const shop = await start('shop', { roles: ['shop'] })
  const holder = await start('holder', { roles: ['plant'], bootstrap: [shop.multiaddrs[0]], plant: { memoryMB: 32 } })
  const fetcher = await start('fetcher', { roles: ['plant'], bootstrap: [shop.multiaddrs[0]], plant: { memoryMB: 1024 } })
  const events: PeerImagesEvent[] = []
  fetcher.images!.onEvent((event) => events.push(event))

  const deadline = AbortSignal.timeout(30_000)
  await waitForBidders(shop, [holder.peerId, fetcher.peerId], deadline)
  await holder.images!.provide({ signal: deadline })
  await dhtReady(fetcher, deadline)
  t.deepEqual(await fetcher.images!.holders(workspace.id, { signal: deadline }), [holder.peerId], 'the image\'s id is provided by its holder')

  client = new VmplantClient({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519') })
  await client.start()

  const first = await client.create(WORKSPACE, 'grid')
  t.is(first.classad.plant, fetcher.peerId)
  t.like(first.bidding.offers, [{ plant: fetcher.peerId }], 'the holder declined for lack of memory')
  t.is(first.classad.goldenImage, workspace.id, 'the fetched image was cloned')
  t.deepEqual(first.classad.actions, { cloned: ['os', 'vnc', 'files'], run: ['ip'] })
  t.is(first.classad.attributes.ip, '10.0.0.7')
  t.like(events.filter((e) => e.type === 'image.fetched'), [{ type: 'image.fetched', id: workspace.id, peer: holder.peerId }])
  t.true(existsSync(join(dir, 'fetcher', 'images', workspace.id)), 'the artifacts sit beside the fetcher\'s store')

  // the holder's copy of the other image rots; the fetcher must refuse it and make do
  const bytes = await readFile(database.artifact)
  bytes[0] = (bytes[0] as number) ^ 0xff
  await writeFile(database.artifact, bytes)
  const second = await client.create(DATABASE, 'grid')
  t.is(second.classad.plant, fetcher.peerId)
  t.not(second.classad.goldenImage, database.id)
  t.deepEqual(second.classad.actions, { cloned: [], run: ['db', 'schema'] }, 'it fell back to a base image of its own')
  const refused = events.find((e) => e.type === 'image.failed')
  t.is(refused?.id, database.id)
  t.true(refused?.type === 'image.failed' && refused.error instanceof DigestMismatchError, 'refused with DigestMismatchError')
  t.false(existsSync(join(dir, 'fetcher', 'images', database.id)), 'nothing of the corrupted image stays')
})
