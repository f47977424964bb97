/**
 * Paper 3.4's illustration, per site, with sites as network namespaces (test/helpers/netns.ts):
 * three sites, each with its own broker and two sim plants (plants A and B of the paper), the shop
 * at a site of its own and the client at its own. The sites join one after another; each new site
 * then has the only plants without VMs, so a new domain's first VM goes there (network cost 50
 * against 54 or more elsewhere), 12 more join it on the same plant (compute cost 4 x VMs < 50),
 * and the 14th goes to the site's other plant (50 < 52). The brokers price their plants from load
 * reports, and the shop ranks the brokers' offers; before each site's run, two probe VMs (made
 * and destroyed) show that its broker prices both of its plants.
 */
import { rootTest } from '../helpers/root.js'
import { fileURLToPath } from 'node:url'
import { buildTopology, listNamespaces, startNodeIn, startShopIn, type NetHost, type NsNode } from '../helpers/netns.js'
import { VMPLANT_BIN } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'

const CREATE_CHILD = fileURLToPath(new URL('../helpers/create-child.js', import.meta.url))
const spec = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }

interface Created { plant: string, cost: number, via?: string, network: string }

rootTest('three sites, each with its own broker, each produce the 13/14 illustration: 13 VMs of a domain on one of its plants, the 14th on the other', async (t) => {
  const dir = await tempDir('vmplant-s1314-')
  const topo = await buildTopology({ sites: 3, hostsPerSite: 3 }).catch(async (err) => { await dir.remove(); throw err })
  t.teardown(async () => {
    await topo.remove()
    await dir.remove()
  })
  const { shopAddr } = await startShopIn(topo, dir.write, 3000)

  const started = Date.now()
  for (const site of topo.sites) {
    const [brokerHost, ...plantHosts] = site.hosts as [NetHost, NetHost, NetHost]
    const broker = await startNodeIn(topo, brokerHost.ns, await dir.write(`${site.name}-broker.yaml`, `roles: [broker]\nsite: ${site.name}\nlisten: [/ip4/${brokerHost.address}/tcp/4001]\nbootstrap: [${shopAddr}]\ndataDir: ${site.name}-broker\nredialMs: 200\n`), VMPLANT_BIN)
    const brokerAddr = `/ip4/${brokerHost.address}/tcp/4001/p2p/${broker.ready.peer}`
    const plants: NsNode[] = []
    for (const [k, host] of plantHosts.entries()) {
      plants.push(await startNodeIn(topo, host.ns, await dir.write(`${site.name}-plant${k}.yaml`, `roles: [plant]\nsite: ${site.name}\nlisten: [/ip4/${host.address}/tcp/4001]\nbootstrap: [${brokerAddr}]\ndataDir: ${site.name}-plant${k}\nredialMs: 200\nplant:\n  memoryMB: 8192\n  cost: { model: paper }\n  driver: { kind: sim }\n`), VMPLANT_BIN))
    }
    const sitePlants = plants.map((p) => p.ready.peer)

    const client = topo.spawnNode(topo.client.gateway.ns, [CREATE_CHILD, JSON.stringify({ shop: shopAddr, domain: `grid-${site.name}`, spec, count: 14, via: broker.ready.peer, plants: sitePlants, deadlineMs: 30_000 })])
    const done = await client.waitFor(/"event":"(done|error)"/, 60_000)
    t.regex(done, /"done"/, client.output())
    const placed = client.output().split('\n').filter((l) => l.includes('"created"')).map((l) => JSON.parse(l) as Created)
    t.is(placed.length, 14)
    const first = placed[0]!.plant
    const short = (peer: string | undefined): string => peer === undefined ? '-' : `${sitePlants.includes(peer) ? 'site' : 'other'}:${peer.slice(-4)}`
    t.log(`${site.name}: ${placed.map((p) => `${short(p.plant)}@${p.cost} via ${p.via?.slice(-4) ?? '-'}`).join(', ')}`)
    t.true(sitePlants.includes(first), `${site.name}: the domain's first VM is made at the new site`)
    t.true(placed.slice(0, 13).every((p) => p.plant === first), `${site.name}: the first 13 VMs share a plant`)
    t.is(placed[13]!.plant, sitePlants.find((p) => p !== first) as string, `${site.name}: the 14th goes to the site's other plant`)
    t.true(placed.every((p) => p.via === broker.ready.peer), `${site.name}: every offer came through the site's broker`)
    t.deepEqual(placed.map((p) => p.cost), [50, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 50], `${site.name}: the paper's costs`)
    t.is(new Set(placed.slice(0, 13).map((p) => p.network)).size, 1, `${site.name}: the 13 share the domain's network on plant A`)
    t.is(placed[13]!.network, 'hostonly-0', `${site.name}: the 14th opens plant B's first network`)
    const probes = (JSON.parse(client.output().split('\n').find((l) => l.includes('"probed"')) ?? '{}') as { tries?: number }).tries
    t.log(`${site.name} done at ${Date.now() - started} ms, after ${probes ?? '?'} probe round(s)`)
  }

  await topo.remove()
  t.false((await listNamespaces()).some((ns) => ns.includes(topo.runId)), 'every namespace is gone')
})
