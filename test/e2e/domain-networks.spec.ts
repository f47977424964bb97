/**
 * Host-only networks per (plant, domain) made of real Linux bridges, on the sim line (the bridges
 * are the host's side, so the sim line can have them too): one bridge per domain, made on first
 * use, shared by the domain's VMs, removed with its last VM; with 4 domains on the plant a 5th gets
 * no offer. A plant without CAP_NET_ADMIN says so and makes networkless VMs, and marks them.
 */
import { rootTest } from '../helpers/root.js'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { federationWithClient, SMALL_SPEC } from '../helpers/federation.js'
import { linkExists, linksStartingWith, sweepStaleLinks, testLinkPrefix } from '../helpers/links.js'
import { startLocalShop, startNodeProcess, eventually, type NodeProcess } from '../helpers/processes.js'
import { processFixture } from '../helpers/process-fixture.js'

rootTest('a bridge per domain, made on first use, shared, removed with the domain\'s last VM; a 5th domain gets no offer from a plant with 4', async (t) => {
  await sweepStaleLinks()
  const prefix = testLinkPrefix()
  const fixture = await federationWithClient({ plants: 1, plant: { networks: 'bridge', networkPrefix: prefix, cost: { model: 'paper', computeCost: 4, networkCost: 50, maxNetworks: 4, maxVms: 32 }, driver: { kind: 'sim', cloneMs: 0, resumeMs: 0, actionMs: 0, goldenMs: 0 } } })
  t.teardown(async () => {
    await fixture.stop()
    for (const link of await linksStartingWith(prefix)) execFileSync('ip', ['link', 'del', 'dev', link])
  })
  const { client } = fixture
  t.regex((await fixture.federation.plants[0]!.plantStatus()).networkMode ?? '', /^bridge: /)

  const first = await client.create(SMALL_SPEC, 'd0')
  t.like(first.classad.network, { name: `${prefix}b0`, index: 0, kind: 'bridge' })
  t.is(first.classad.cost, 50, 'a new domain pays for its network')
  t.true(await linkExists(`${prefix}b0`), 'the bridge exists')
  const second = await client.create(SMALL_SPEC, 'd0')
  t.like(second.classad.network, { name: `${prefix}b0`, index: 0 })
  t.is(second.classad.cost, 4, 'the domain\'s second VM reuses its bridge')
  const others = []
  for (const domain of ['d1', 'd2', 'd3']) others.push((await client.create(SMALL_SPEC, domain)).classad)
  t.deepEqual(others.map((ad) => ad.network.name), [`${prefix}b1`, `${prefix}b2`, `${prefix}b3`])
  t.deepEqual((await linksStartingWith(prefix)).sort(), [0, 1, 2, 3].map((i) => `${prefix}b${i}`))

  const refused = await t.throwsAsync(client.create(SMALL_SPEC, 'd4'))
  t.regex(refused.message, /all 4 host-only networks are taken/)
  t.false(await linkExists(`${prefix}b4`))

  // d0's bridge stays while one of its VMs does, and goes with the last
  await client.destroy(first.classad.vmid)
  t.true(await linkExists(`${prefix}b0`))
  await client.destroy(second.classad.vmid)
  t.false(await linkExists(`${prefix}b0`), 'the domain\'s last VM took its bridge with it')
  t.is((await fixture.federation.plants[0]!.plantStatus()).networks, 3)

  const fifth = await client.create(SMALL_SPEC, 'd4')
  t.like(fifth.classad.network, { name: `${prefix}b0`, index: 0, kind: 'bridge' }, 'the freed network is the 5th domain\'s now')
  for (const ad of [...others, fifth.classad]) await client.destroy(ad.vmid)
  t.deepEqual(await linksStartingWith(prefix), [], 'no bridge is left')
})

/** Starts a node process without CAP_NET_ADMIN (a root process that dropped it), without debug logs. */
async function startWithoutNetAdmin (config: string): Promise<NodeProcess> {
  return await startNodeProcess(config, 30_000, { DEBUG: '' }, ['setpriv', '--bounding-set=-net_admin', '--inh-caps=-net_admin'])
}

rootTest('a plant without CAP_NET_ADMIN says once that domain networks are off, and its VMs are networkless, marked so in bid and classad', async (t) => {
  const { dir, procs, startClient } = await processFixture(t)
  const { shop, shopAddr } = await startLocalShop(dir.path, 3000)
  procs.push(shop)
  const plantConfig = join(dir.path, 'plant.yaml')
  await writeFile(plantConfig, `roles: [plant]\nbootstrap: [${shopAddr}]\ndataDir: plant\nredialMs: 200\nplant:\n  networks: bridge\n  networkPrefix: ${testLinkPrefix()}\n  driver: { kind: sim }\n`)
  const plant = await startWithoutNetAdmin(plantConfig)
  procs.push(plant)

  const c = await startClient({ shop: shopAddr, privateKey: await generateKeyPair('Ed25519') })
  const created = await eventually(async () => await c.create(SMALL_SPEC, 'lab'), 20_000)
  t.like(created.classad.network, { name: 'none', index: -1, kind: 'none' })
  t.regex(created.classad.network.detail ?? '', /no CAP_NET_ADMIN/)
  const offer = created.bidding.offers[0]
  t.regex(offer?.reason ?? '', /network: none \(no CAP_NET_ADMIN/)
  t.is(offer?.cost, 0, 'no network is charged for a VM that gets none')
  t.is(created.classad.outputs.hello?.stdout, 'hello\n', 'creates still work')
  const said = plant.stderr().split('\n').filter((l) => l.includes('domain networks are off'))
  t.is(said.length, 1, `says so once: ${plant.stderr()}`)
  t.regex(said[0] ?? '', /no CAP_NET_ADMIN/)
  await c.destroy(created.classad.vmid)
})
