import test from 'ava'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/temp.js'
import { clientTapName } from '../../src/net/tunnels/vnet/index.js'
import { addresses, buildSites, linkStats, pingOnce, pingUntil, HOST_ADDRESS, LAN_BRIDGE, PLANT_BRIDGE, PLANT_WAN, VM_ADDRESS, type NsProcess, type Sites } from './vnet-sites.js'

const VMPLANT_BIN = fileURLToPath(new URL('../../../bin/vmplant.js', import.meta.url))
const PLANT_CHILD = fileURLToPath(new URL('./vnet-plant.js', import.meta.url))
const CLIENT_CHILD = fileURLToPath(new URL('./vnet-client.js', import.meta.url))
const DOMAIN = 'lab'
const spec = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }

interface Federation { sites: Sites, dir: string, key: string, domainKey: string, shopAddr: string, plant: NsProcess, plantPeer: string, plantAddr: string }

/** Two sites, a shop and a plant in the plant site, and a client key that owns domain `lab`. */
async function federation (t: { teardown: (fn: () => Promise<void>) => void }): Promise<Federation> {
  const dir = await tempDir('vmplant-vnet-')
  const sites = await buildSites().catch(async (err) => { await dir.remove(); throw err })
  t.teardown(async () => {
    await sites.remove()
    await dir.remove()
  })
  const key = join(dir.path, 'client.key')
  const made = await runCli('domain', 'create', DOMAIN, '--key', key)
  if (made.code !== 0) throw new Error(`domain create failed: ${made.err}`)
  const domainKey = made.out.trim()

  const shopConfig = join(dir.path, 'shop.yaml')
  await writeFile(shopConfig, `roles: [shop]\nlisten: [/ip4/${PLANT_WAN}/tcp/4001]\ndataDir: shop\nshop:\n  bidWindowMs: 500\n`)
  const shop = sites.spawn(sites.plant, [VMPLANT_BIN, 'node', '--config', shopConfig])
  const shopPeer = JSON.parse(await shop.waitFor(/"event":"ready"/, 30_000)).peer as string
  const shopAddr = `/ip4/${PLANT_WAN}/tcp/4001/p2p/${shopPeer}`
  const plant = sites.spawn(sites.plant, [PLANT_CHILD, JSON.stringify({ dataDir: join(dir.path, 'plant'), listen: `/ip4/${PLANT_WAN}/tcp/4002`, shop: shopAddr, domain: DOMAIN, domainKey, bridge: PLANT_BRIDGE })])
  const plantPeer = JSON.parse(await plant.waitFor(/"event":"ready"/, 30_000)).peer as string
  return { sites, dir: dir.path, key, domainKey, shopAddr, plant, plantPeer, plantAddr: `/ip4/${PLANT_WAN}/tcp/4002/p2p/${plantPeer}` }
}

/** `vmplant create` from the client site, until the shop knows the plant; returns the classad's plant. */
async function createVm (f: Federation): Promise<string> {
  const specFile = join(f.dir, 'spec.json')
  await writeFile(specFile, JSON.stringify(spec))
  const until = Date.now() + 30_000
  for (;;) {
    try {
      const out = await f.sites.exec(f.sites.client, [process.execPath, VMPLANT_BIN, 'create', '--shop', f.shopAddr, '--spec', specFile, '--domain', DOMAIN, '--key', f.key, '--json'], 60_000)
      return JSON.parse(out).classad.plant as string
    } catch (err) {
      // the shop may not have heard of the plant yet: it then has no offer
      if (Date.now() > until) throw err
    }
  }
}

/** the plant bridge's ports: the VM's veth, and a tap for each tunnel */
async function bridgePorts (sites: Sites): Promise<string[]> {
  const links = JSON.parse(await sites.exec(sites.plant, ['ip', '-j', 'link', 'show', 'master', PLANT_BRIDGE])) as Array<{ ifname: string }>
  return links.map((l) => l.ifname).sort()
}

// the tests run one at a time: each has tunnels of its own that share the machine's two cores
test.serial('the proxy follows the plant a new VM lands on; a host on the client LAN pings the VM\'s network through the tunnel, and again after the stream breaks, at the same addresses', async (t) => {
  const f = await federation(t)
  const { sites } = f
  t.false(await pingOnce(sites, sites.host, VM_ADDRESS), 'no path between the LAN and the domain network without the tunnel')

  // the proxy starts while the domain has no VM, and follows the plant once one is made there
  const proxy = sites.spawn(sites.client, [VMPLANT_BIN, 'vnet', 'proxy', '--shop', f.shopAddr, '--domain', DOMAIN, '--bridge', LAN_BRIDGE, '--key', f.key, '--poll-ms', '300'])
  await proxy.waitFor(/"event":"ready"/, 30_000)
  t.notRegex(proxy.output(), /following plant/)
  t.is(await createVm(f), f.plantPeer)
  await proxy.waitFor(new RegExp(`following plant ${f.plantPeer} on tap `), 30_000)
  await proxy.waitFor(new RegExp(`tunnel to ${f.plantPeer} up \\(stream 1\\)`), 30_000)
  await pingUntil(sites, sites.host, VM_ADDRESS, 20_000)

  const client = JSON.parse(await proxy.waitFor(/"event":"ready"/, 1000)).peer as string
  const tap = clientTapName(client, DOMAIN, f.plantPeer)
  const before = { vm: await addresses(sites, sites.vm), host: await addresses(sites, sites.host), tap: (await linkStats(sites, sites.client, tap)).ifindex, ports: await bridgePorts(sites) }
  t.is(before.ports.length, 2, 'the plant bridge has the VM and one tunnel tap')

  const { plant } = f
  process.kill(plant.pid, 'SIGUSR2')
  await plant.waitFor(/"event":"broken"/, 10_000)
  await proxy.waitFor(new RegExp(`tunnel to ${f.plantPeer} down`), 30_000)
  await proxy.waitFor(new RegExp(`tunnel to ${f.plantPeer} up \\(stream 2\\)`), 30_000)
  await pingUntil(sites, sites.host, VM_ADDRESS, 20_000)

  t.is(await addresses(sites, sites.vm), before.vm, "the VM's address is unchanged")
  t.is(await addresses(sites, sites.host), before.host)
  t.is((await linkStats(sites, sites.client, tap)).ifindex, before.tap, 'the client tap outlived the stream')
  t.deepEqual(await bridgePorts(sites), before.ports, 'the plant tap outlived the stream')

  await proxy.kill('SIGTERM')
  t.false((await sites.exec(sites.client, ['ip', '-o', 'link', 'show'])).includes(tap), 'a stopped proxy removes its taps')
  await plant.kill('SIGTERM')
  t.deepEqual(await bridgePorts(sites), ['port'], 'a stopped plant removes its tunnel taps')
})

test.serial('with --tap, the proxy joins the plants to one tap of its own, which the client puts on its LAN, and removes it at exit', async (t) => {
  const f = await federation(t)
  const { sites } = f
  t.is(await createVm(f), f.plantPeer)
  const proxy = sites.spawn(sites.client, [VMPLANT_BIN, 'vnet', 'proxy', '--shop', f.shopAddr, '--domain', DOMAIN, '--tap', 'vnlab0', '--key', f.key, '--poll-ms', '300'])
  await proxy.waitFor(/"event":"ready"/, 30_000)
  await sites.exec(sites.client, ['ip', 'link', 'set', 'dev', 'vnlab0', 'master', LAN_BRIDGE])
  await proxy.waitFor(new RegExp(`following plant ${f.plantPeer} on tap vnlab0`), 30_000)
  await proxy.waitFor(new RegExp(`tunnel to ${f.plantPeer} up \\(stream 1\\)`), 30_000)
  await pingUntil(sites, sites.host, VM_ADDRESS, 20_000)
  await proxy.kill('SIGTERM')
  t.false((await sites.exec(sites.client, ['ip', '-o', 'link', 'show'])).includes('vnlab0'), 'the tap the proxy made is gone')
})

test.serial('a tunnel with a wrong credential is refused with the reason, and no frame reaches the domain network', async (t) => {
  const f = await federation(t)
  const { sites } = f
  const legit = JSON.parse((await runCli('domain', 'list', '--json', '--key', f.key)).out).client as string
  const legitCredential = join(f.dir, 'legit.json')
  t.is((await runCli('domain', 'grant', DOMAIN, '--client', legit, '--out', legitCredential, '--key', f.key)).code, 0)
  // a namesake: a domain called `lab` with a key of the intruder's own
  const intruderKey = join(f.dir, 'intruder.key')
  t.is((await runCli('domain', 'create', DOMAIN, '--key', intruderKey)).code, 0)
  const intruder = JSON.parse((await runCli('domain', 'list', '--json', '--key', intruderKey)).out).client as string
  const namesake = join(f.dir, 'namesake.json')
  t.is((await runCli('domain', 'grant', DOMAIN, '--client', intruder, '--out', namesake, '--key', intruderKey)).code, 0)
  const junk = join(f.dir, 'junk.json')
  await writeFile(junk, JSON.stringify({ type: 'domain.credential', domain: DOMAIN }))

  const cases = [
    { what: "another client's credential", key: intruderKey, credential: legitCredential, reason: /other-client/ },
    { what: 'a credential of a namesake domain', key: intruderKey, credential: namesake, reason: /no network for domain lab/ },
    { what: 'no credential at all', key: intruderKey, credential: junk, reason: /not a domain credential/ }
  ]
  for (const [i, c] of cases.entries()) {
    const vmPort = await linkStats(sites, sites.vm, 'eth0')
    const client = sites.spawn(sites.client, [CLIENT_CHILD, JSON.stringify({ key: c.key, plant: f.plantAddr, domain: DOMAIN, credential: c.credential, bridge: LAN_BRIDGE, tap: `bad${i}` })])
    const refused = JSON.parse(await client.waitFor(/"type":"refused"/, 30_000)).reason as string
    t.regex(refused, c.reason, c.what)
    t.false(await pingOnce(sites, sites.host, VM_ADDRESS), `${c.what}: no ping passes`)
    t.deepEqual(await bridgePorts(sites), ['port'], `${c.what}: no tap joins the domain bridge`)
    t.is((await linkStats(sites, sites.vm, 'eth0')).rxPackets, vmPort.rxPackets, `${c.what}: not one frame reached the VM`)
    t.notRegex(client.output(), /"type":"up"/)
    await client.kill('SIGTERM')
  }

  // the same path with the right credential works, so the refusals above are the credential's doing
  const good = sites.spawn(sites.client, [CLIENT_CHILD, JSON.stringify({ key: f.key, plant: f.plantAddr, domain: DOMAIN, credential: legitCredential, bridge: LAN_BRIDGE, tap: 'good0' })])
  await good.waitFor(/"type":"up"/, 30_000)
  await pingUntil(sites, sites.host, VM_ADDRESS, 20_000)
  t.pass(`${HOST_ADDRESS} reached ${VM_ADDRESS}`)
  await good.kill('SIGTERM')
})
