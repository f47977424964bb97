import { existsSync } from 'node:fs'
import { open, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient } from '../../src/cli/client.js'
import { waitForBidders } from '../../src/daemon/embedded.js'
import { defaultGoldenShmDir } from '../../src/daemon/create-line.js'
import type { VmplantNode } from '../../src/daemon/vmplant-node.js'
import { qemuLine } from '../../src/hypervisor/qemu/index.js'
import { DigestMismatchError, type PeerImagesEvent } from '../../src/images/index.js'
import { qemuTest } from '../hypervisor/qemu-helpers.js'
import { killMentioning } from '../helpers/hypervisors.js'
import { dhtReady, nodeSet } from '../helpers/nodes.js'
import { publishGolden } from '../helpers/publish.js'

const qtest = qemuTest()

/** the golden made at site 1 has the first action applied: a file in the guest that the clone at site 2 reads */
const SPEC = {
  hardware: { memoryMB: 128, os: 'linux' },
  actions: [
    { id: 'made', run: 'echo made-at-site-1 > /root/origin' },
    { id: 'read', run: 'cat /root/origin', after: ['made'] }
  ]
}

const DRIVER = { kind: 'qemu', poolSize: 0, accel: 'auto', tbSizeMB: 64, diskMB: 64, overheadMB: 64 }

/** Builds the spec's first action into a golden on the QEMU line of a plant-to-be, and catalogues it, as `vmplant image publish` would. */
async function publish (dataDir: string): Promise<{ id: string, dir: string }> {
  const line = qemuLine({ workDir: join(dataDir, 'publish'), goldenDir: defaultGoldenShmDir(join(dataDir, 'line')), poolSize: 0, tbSizeMB: 64, diskMB: 64 })
  await line.start()
  try {
    const { id, golden } = await publishGolden(line, dataDir, SPEC, 1)
    return { id, dir: golden.dir }
  } finally {
    await line.stop({ destroyAll: true })
  }
}

/** Every file under `dir` whose name marks a partial transfer or an import in progress. */
async function partials (dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const entry of await readdir(dir, { recursive: true })) {
    if (entry.endsWith('.part') || entry.split('/').some((p) => p.startsWith('.import-'))) out.push(entry)
  }
  return out
}

qtest('site 2\'s plant fetches a QEMU golden made at site 1 through the DHT, prices the fetch in its bid and clones it; a corrupted transfer is refused and leaves no file', async (t) => {
  // a golden build boots a guest under TCG (and builds the guest image on a fresh host)
  t.timeout(600_000)
  const { dir, start } = await nodeSet(t)
  const site1 = join(dir, 'site1-plant')
  const site2 = join(dir, 'site2-plant')
  let client: VmplantClient | undefined
  const plants: VmplantNode[] = []
  t.teardown(async () => {
    await client?.stop()
    // the plants stop (their VMs destroyed) before their golden folders on tmpfs go; nodeSet's own stop is then a no-op
    await Promise.all(plants.map(async (p) => { await p.stop({ destroyVms: true }) }))
    await killMentioning(dir)
    for (const plant of [site1, site2]) await rm(defaultGoldenShmDir(join(plant, 'line')), { recursive: true, force: true })
  })

  const published = await publish(site1)
  const goldenDir2 = defaultGoldenShmDir(join(site2, 'line'))

  const shop = await start('shop', { roles: ['shop'], shop: { bidWindowMs: 12_000, orderTimeoutMs: 300_000 } })
  const broker1 = await start('site1-broker', { roles: ['broker'], site: 'site-1', bootstrap: [shop.multiaddrs[0]] })
  const broker2 = await start('site2-broker', { roles: ['broker'], site: 'site-2', bootstrap: [shop.multiaddrs[0]] })
  // site 1's plant holds the golden but has no memory for a VM of 128 MB: the create goes to site 2
  const holder = await start('site1-plant', { roles: ['plant'], site: 'site-1', bootstrap: [broker1.multiaddrs[0]], plant: { memoryMB: 64, driver: DRIVER } })
  const fetcher = await start('site2-plant', { roles: ['plant'], site: 'site-2', bootstrap: [broker2.multiaddrs[0]], plant: { memoryMB: 2048, driver: DRIVER, imageFetch: { bytesPerSecond: 1_000_000, costPerSecond: 2, lookupMs: 5000 } } })
  plants.push(holder, fetcher)
  const events: PeerImagesEvent[] = []
  fetcher.images!.onEvent((event) => events.push(event))

  const deadline = AbortSignal.timeout(60_000)
  await waitForBidders(shop, [broker1.peerId, broker2.peerId], deadline)
  for (const [broker, site] of [[broker1, 'site-1'], [broker2, 'site-2']] as const) {
    while (broker.bidders(site).length < 1) {
      deadline.throwIfAborted()
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  await holder.images!.provide({ signal: deadline })
  await dhtReady(fetcher, deadline)
  t.deepEqual(await fetcher.images!.holders(published.id, { signal: deadline }), [holder.peerId], 'site 2 finds site 1\'s plant through the DHT')

  client = new VmplantClient({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519') })
  await client.start()
  const created = await client.create(SPEC, 'grid')
  t.is(created.classad.plant, fetcher.peerId, 'site 2\'s plant made the VM')
  t.is(created.classad.line, 'qemu')
  t.is(created.classad.goldenImage, published.id, 'from site 1\'s golden')
  t.deepEqual(created.classad.actions, { cloned: ['made'], run: ['read'] })
  t.is(created.classad.outputs.read?.stdout.trim(), 'made-at-site-1', 'the guest state checkpointed at site 1 runs at site 2')

  // the bid priced the transfer: no fetch was measured yet, so the configured 1 MB/s, at 2 a second
  const offer = created.bidding.offers.find((o) => o.plant === fetcher.peerId)
  t.regex(offer?.reason ?? '', new RegExp(`fetches golden image ${published.id.slice(-8)} from ${holder.peerId.slice(-8)} \\([0-9.]+ MB at 1\\.0 MB/s configured\\): [0-9]+, saves 1, 1 to run`), offer?.reason)
  t.log(`bid: ${offer?.reason ?? ''}; cloning (fetch included) ${created.classad.timings.cloningMs} ms`)
  const fetchCost = Number(/configured\): ([0-9]+)/.exec(offer?.reason ?? '')?.[1])
  t.true(fetchCost > 0, 'the fetch costs something')
  t.true(offer !== undefined && offer.cost >= fetchCost, 'and is part of the bid\'s cost')

  // progress events come and go with the transfer's chunks; one fetch is the fact
  t.like(events.filter((e) => e.type === 'image.fetched'), [{ type: 'image.fetched', id: published.id, peer: holder.peerId }])
  t.true(existsSync(join(goldenDir2, published.id, 'ram')), 'the RAM file sits in the QEMU line\'s golden folder on tmpfs')
  t.deepEqual(await partials(goldenDir2), [], 'no staging folder or partial file is left')
  t.false(existsSync(join(site2, 'images', published.id)), 'nothing was copied beside the store')
  const measured = fetcher.images!.measuredBytesPerSecond(holder.peerId) ?? 0
  t.true(measured > 0, 'the transfer measured the link')
  t.log(`measured link speed: ${(measured / 1e6).toFixed(0)} MB/s`)
  await client.destroy(created.classad.vmid)

  // site 1's RAM file rots after it was hashed; a new fetch of it must be refused, leaving nothing
  const ram = await open(join(published.dir, 'ram'), 'r+')
  try {
    const { size } = await ram.stat()
    const byte = Buffer.alloc(1)
    await ram.read(byte, 0, 1, Math.floor(size / 2))
    byte[0] = (byte[0] as number) ^ 0xff
    await ram.write(byte, 0, 1, Math.floor(size / 2))
  } finally {
    await ram.close()
  }
  await rm(join(goldenDir2, published.id), { recursive: true, force: true })
  const error = await t.throwsAsync(fetcher.images!.fetch({ peer: holder.peerId, id: published.id }, { signal: AbortSignal.timeout(120_000) }))
  t.true(error instanceof DigestMismatchError, `refused with DigestMismatchError: ${error?.message}`)
  t.regex(error?.message ?? '', /artifact memory of image .* refused and deleted/)
  t.deepEqual(await partials(goldenDir2), [], 'no staging folder or partial file is left')
  t.deepEqual(await readdir(goldenDir2).then((names) => names.filter((n) => n === published.id)), [], 'the refused golden is not placed')
})
