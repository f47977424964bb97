/**
 * Issue 10's "Must show" with a real UML guest, sites as network namespaces (test/helpers/netns.ts):
 * the shop at its site, a UML plant (bridge mode) at site 1, the client's gateway and a host on the
 * client's LAN at the client site. A VM of domain A takes the address its spec asks for, answers
 * the LAN host's ping through `vmplant vnet proxy` (run on the client's gateway), and again after
 * the tunnel's stream is broken; B's VM on the same plant, the plant's host and its site cannot
 * reach it; a client without A's credential cannot create in A, query A's VM or open A's tunnel.
 */
import test, { type TestFn } from 'ava'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { lineUnavailable } from '../../src/hypervisor/available.js'
import { listNamespaces, startShopIn, startReady, type NetHost, type Topology } from '../helpers/netns.js'
import { pidsMentioning } from '../helpers/hypervisors.js'
import { eventually, VMPLANT_BIN } from '../helpers/processes.js'
import { netnsFixture } from '../helpers/netns-fixture.js'

const run = promisify(execFile)
const PLANT_CHILD = fileURLToPath(new URL('../helpers/plant-child.js', import.meta.url))
const TUNNEL_CHILD = fileURLToPath(new URL('../net/vnet-client.js', import.meta.url))

const missing = process.getuid?.() !== 0 ? 'network namespaces and bridges need root' : await lineUnavailable('uml')
const utest: TestFn['serial'] = missing === undefined || process.env.CI !== undefined ? test.serial : test.serial.skip as unknown as TestFn['serial']
if (missing !== undefined && process.env.CI === undefined) console.warn(`skipping the UML tunnel test: ${missing}`)

/** on the client's LAN (10.77.250.0/24, test/helpers/netns.ts): the gateway is .1, the LAN host .10 */
const A_ADDRESS = '10.77.250.30'
const B_ADDRESS = '10.77.250.31'
const LAN_GATEWAY = '10.77.250.1'

/** true when `host` gets an answer from `to` within `deadlineMs`, pinging once a second */
async function pingUntil (topo: Topology, host: NetHost | string, to: string, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs
  for (;;) {
    if (await topo.ping(host, to, 1)) return true
    if (Date.now() > until) return false
  }
}

/** the MAC the LAN host learnt for an address (its ARP entry), or undefined */
async function neighbourMac (topo: Topology, host: NetHost, address: string): Promise<string | undefined> {
  const out = await topo.exec(host.ns, ['ip', '-j', 'neigh', 'show', address])
  return (JSON.parse(out) as Array<{ lladdr?: string }>)[0]?.lladdr
}

utest('a UML VM of domain A takes its spec\'s address and answers the client LAN through the tunnel, also after the stream breaks; B, the plant\'s host and a client without A\'s credential cannot reach it', async (t) => {
  const { dir, topo, running } = await netnsFixture(t, 'vmplant-uvs-', { sites: 1, hostsPerSite: 2 })
  const [neighbour, plantHost] = topo.sites[0]!.hosts as [NetHost, NetHost]
  const { gateway, lanHost, lanBridge } = topo.client
  const cli = async (...args: string[]): Promise<string> => await topo.exec(gateway.ns, [process.execPath, VMPLANT_BIN, ...args], { timeoutMs: 60_000 })
  const cliFails = async (...args: string[]): Promise<string> => {
    const error = await t.throwsAsync(cli(...args))
    return error?.message ?? ''
  }

  const { shop, shopAddr } = await startShopIn(topo, dir.write, 1000)
  running.add(shop)
  const plantConfig = await dir.write('plant.yaml', `roles: [plant]\nlisten: [/ip4/${plantHost.address}/tcp/4001]\nbootstrap: [${shopAddr}]\ndataDir: plant\nredialMs: 200\nplant:\n  memoryMB: 1024\n  driver: { kind: uml }\n`)
  const started = Date.now()
  const stage = (what: string): void => { t.log(`${what}: ${Date.now() - started} ms`) }
  const plant = await startReady(topo.spawnNode(plantHost.ns, [PLANT_CHILD, plantConfig]))
  running.add(plant)
  const plantPeer = plant.ready.peer

  // three clients: A's owner, B's owner, and an intruder with neither key
  const keys = { a: join(dir.path, 'a.key'), b: join(dir.path, 'b.key'), x: join(dir.path, 'x.key') }
  await cli('domain', 'create', 'dom-a', '--key', keys.a)
  await cli('domain', 'create', 'dom-b', '--key', keys.b)
  const spec = async (name: string, body: object): Promise<string> => await dir.write(name, JSON.stringify({ hardware: { memoryMB: 48, os: 'linux' }, ...body }))
  const specA = await spec('a.json', { network: { address: `${A_ADDRESS}/24`, gateway: LAN_GATEWAY }, actions: [{ id: 'route', run: 'ip route show default', exports: [] }] })
  // the shop may not know the plant yet: it then has no offer
  const a = JSON.parse(await eventually(async () => await cli('create', '--shop', shopAddr, '--spec', specA, '--domain', 'dom-a', '--key', keys.a, '--json'), 30_000, 300))
  stage('A made')
  t.is(a.classad.plant, plantPeer)
  t.is(a.classad.network.kind, 'bridge')
  t.is(a.classad.nic.address, `${A_ADDRESS}/24`, 'the classad shows the address the spec chose')
  t.regex(a.classad.nic.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/)
  t.regex(a.classad.outputs.route.stdout, new RegExp(`default via ${LAN_GATEWAY.replaceAll('.', '\\.')} dev eth0`), 'the spec\'s actions run after the address and route are set')
  const classad = await cli('query', a.classad.vmid, '--shop', shopAddr, '--key', keys.a, '--classad')
  t.true(classad.includes(`MAC = "${a.classad.nic.mac as string}";`) && classad.includes(`IPAddress = "${A_ADDRESS}/24";`), '--classad prints MAC and IPAddress')

  // no tunnel yet: the client LAN has no way to A's network
  t.false(await topo.ping(lanHost, A_ADDRESS, 1))
  const proxy = topo.spawnNode(gateway.ns, [VMPLANT_BIN, 'vnet', 'proxy', '--shop', shopAddr, '--domain', 'dom-a', '--bridge', lanBridge, '--key', keys.a, '--poll-ms', '300'])
  running.add(proxy)
  await proxy.waitFor(new RegExp(`tunnel to ${plantPeer} up \\(stream 1\\)`), 30_000)
  t.true(await pingUntil(topo, lanHost, A_ADDRESS, 20_000), 'the LAN host reaches A\'s VM through the tunnel')
  stage('A answers')
  t.is(await neighbourMac(topo, lanHost, A_ADDRESS), a.classad.nic.mac, 'the answer comes from the classad\'s MAC')

  // a broken stream: the proxy reconnects, and the same VM answers at the same address
  process.kill(plant.pid, 'SIGUSR2')
  t.regex(await plant.waitFor(/"event":"broken"/, 10_000), /"connections":[1-9]/)
  await proxy.waitFor(new RegExp(`tunnel to ${plantPeer} down`), 30_000)
  await proxy.waitFor(new RegExp(`tunnel to ${plantPeer} up \\(stream 2\\)`), 30_000)
  t.true(await pingUntil(topo, lanHost, A_ADDRESS, 20_000), 'the ping resumes after the stream broke')
  stage('A answers again')
  await topo.exec(lanHost.ns, ['ip', 'neigh', 'flush', 'dev', 'eth0'])
  t.true(await topo.ping(lanHost, A_ADDRESS, 2))
  t.is(await neighbourMac(topo, lanHost, A_ADDRESS), a.classad.nic.mac, 'the same NIC answers, learnt afresh')

  // B's VM on the same plant, on the same subnet: its own bridge keeps it from A's VM and from the LAN
  const specB = await spec('b.json', { network: { address: `${B_ADDRESS}/24` }, actions: [{ id: 'reach', run: `for to in ${A_ADDRESS} ${lanHost.address}; do if ping -c 2 -W 1 $to >/dev/null 2>&1; then echo reach_$to=yes; else echo reach_$to=no; fi; done | tr . _`, exports: [`reach_${A_ADDRESS.replaceAll('.', '_')}`, `reach_${lanHost.address.replaceAll('.', '_')}`], timeoutMs: 20_000 }] })
  const b = JSON.parse(await cli('create', '--shop', shopAddr, '--spec', specB, '--domain', 'dom-b', '--key', keys.b, '--json'))
  stage('B made')
  t.is(b.classad.plant, plantPeer)
  t.not(b.classad.network.name, a.classad.network.name, 'B has a bridge of its own')
  t.deepEqual(b.classad.attributes, { [`reach_${A_ADDRESS.replaceAll('.', '_')}`]: 'no', [`reach_${lanHost.address.replaceAll('.', '_')}`]: 'no' }, 'B\'s VM reaches neither A\'s VM nor A\'s LAN')
  t.true(await topo.ping(lanHost, A_ADDRESS, 2), 'while A\'s VM still answers its LAN')

  // the plant's host, its site and the test's own namespace have no way to A's VM
  t.false(await topo.ping(plantHost, A_ADDRESS, 1), 'the plant\'s host cannot reach A\'s VM')
  t.false(await topo.ping(neighbour, A_ADDRESS, 1), 'another host of site 1 cannot')
  const bridgeAddrs = await topo.exec(plantHost.ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', a.classad.network.name])
  t.is(bridgeAddrs.trim(), '', 'A\'s bridge has no address on the plant\'s host')
  t.false(await run('ping', ['-c', '1', '-W', '1', A_ADDRESS]).then(() => true, () => false), 'the test\'s own namespace cannot reach A\'s VM')

  // the intruder: with A's credential stolen from A's owner, with a namesake domain of its own, or with none
  // (independent CLI runs at once: each starts a libp2p node)
  const stolen = join(dir.path, 'a-credential.json')
  const namesake = join(dir.path, 'x-credential.json')
  await Promise.all([
    (async () => {
      const aClient = JSON.parse(await cli('domain', 'list', '--json', '--key', keys.a)).client as string
      await cli('domain', 'grant', 'dom-a', '--client', aClient, '--out', stolen, '--key', keys.a)
    })(),
    (async () => {
      await cli('domain', 'create', 'dom-a', '--key', keys.x)
      const xClient = JSON.parse(await cli('domain', 'list', '--json', '--key', keys.x)).client as string
      await cli('domain', 'grant', 'dom-a', '--client', xClient, '--out', namesake, '--key', keys.x)
    })()
  ])
  const tunnel = async (i: number, credential: string): Promise<string> => {
    const child = topo.spawnNode(gateway.ns, [TUNNEL_CHILD, JSON.stringify({ key: keys.x, plant: `/ip4/${plantHost.address}/tcp/4001/p2p/${plantPeer}`, domain: 'dom-a', credential, bridge: lanBridge, tap: `bad${i}` })])
    running.add(child)
    try {
      return JSON.parse(await child.waitFor(/"type":"refused"/, 30_000)).reason
    } finally {
      await child.kill('SIGTERM')
    }
  }
  const [create, query, queryNamesake, tunnelStolen, tunnelNamesake] = await Promise.all([
    cliFails('create', '--shop', shopAddr, '--spec', specA, '--domain', 'dom-a', '--credential', stolen, '--key', keys.x, '--json'),
    cliFails('query', a.classad.vmid, '--shop', shopAddr, '--credential', stolen, '--key', keys.x),
    cliFails('query', a.classad.vmid, '--shop', shopAddr, '--domain', 'dom-a', '--key', keys.x),
    tunnel(0, stolen),
    tunnel(1, namesake)
  ])
  t.regex(create, /other-client/, 'no create in A with another client\'s credential')
  t.regex(query, /other-client/, 'no query of A\'s VM with it')
  t.regex(queryNamesake, /domain-mismatch/, 'nor with a namesake domain of its own')
  t.regex(tunnelStolen, /other-client/, 'the plant refuses a tunnel with the stolen credential')
  t.regex(tunnelNamesake, /no network for domain dom-a/, 'and one with the namesake\'s')
  t.is(await topo.exec(gateway.ns, ['ip', '-o', 'link', 'show', 'master', lanBridge]).then((out) => out.split('\n').filter((l) => /bad\d/.test(l)).length), 0, 'no refused tunnel left a tap on the LAN')
  t.true(await topo.ping(lanHost, A_ADDRESS, 2), 'A\'s own tunnel is unaffected')
  stage('intruder refused')
  // teardown, checked: the plant stopped with its VMs leaves no guest, bridge or tap; the namespaces go
  await proxy.kill('SIGTERM')
  await plant.kill('SIGTERM')
  t.is(plant.child.exitCode, 0, plant.output())
  await shop.kill('SIGTERM')
  t.deepEqual(pidsMentioning(dir.path), [], 'no linux.uml process is left')
  const links = await topo.exec(plantHost.ns, ['ip', '-o', 'link', 'show'])
  t.false(links.includes(a.classad.network.name) || links.includes(b.classad.network.name), 'the domain bridges are gone')
  await topo.remove()
  t.false((await listNamespaces()).some((ns) => ns.includes(topo.runId)), 'every namespace is gone')
})
