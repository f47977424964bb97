/**
 * DHCP through the tunnel, with real UML and QEMU guests and sites as network namespaces
 * (test/helpers/netns.ts): the client's LAN runs busybox `udhcpd` on its bridge, `vmplant vnet
 * proxy` runs on the client's gateway before the domain has any VM, and a VM whose spec asks for
 * DHCP takes its address from the LAN's range while it is made (the plant lists it as `creating`,
 * so the proxy follows the plant before the record exists). A VM of a domain with no tunnel gets
 * no lease: its create fails within the spec's lease timeout, naming why, and leaves no guest,
 * bridge or tap behind.
 */
import test, { type ExecutionContext, type TestFn } from 'ava'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { lineUnavailable } from '../../src/hypervisor/available.js'
import { listNamespaces, startShopIn, startReady, CLIENT_LAN, type NetHost, type Topology } from '../helpers/netns.js'
import { pidsMentioning } from '../helpers/hypervisors.js'
import { eventually, VMPLANT_BIN } from '../helpers/processes.js'
import { netnsFixture } from '../helpers/netns-fixture.js'

const PLANT_CHILD = fileURLToPath(new URL('../helpers/plant-child.js', import.meta.url))
const BUSYBOX = '/bin/busybox'

type Line = 'uml' | 'qemu'

/** the test for a line, skipped (with why) where it cannot run, failed under CI */
async function lineTest (line: Line): Promise<TestFn['serial']> {
  const missing = process.getuid?.() !== 0 ? 'network namespaces and bridges need root' : await lineUnavailable(line)
  if (missing !== undefined && process.env.CI === undefined) console.warn(`skipping the ${line} DHCP test: ${missing}`)
  return missing === undefined || process.env.CI !== undefined ? test.serial : test.serial.skip as unknown as TestFn['serial']
}

const LINES: Record<Line, { driver: string, plantMB: number, vmMB: number }> = {
  uml: { driver: '{ kind: uml }', plantMB: 1024, vmMB: 48 },
  qemu: { driver: '{ kind: qemu, poolSize: 0 }', plantMB: 2048, vmMB: 128 }
}

/** the LAN server's range: the LAN host (.10) and the gateway (.1) are outside it */
const RANGE = { start: 100, end: 150 }
const LAN_GATEWAY = `${CLIENT_LAN}.1`

/** true when `host` gets an answer from `to` within `deadlineMs`, pinging once a second */
async function pingUntil (topo: Topology, host: NetHost, to: string, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs
  for (;;) {
    if (await topo.ping(host, to, 1)) return true
    if (Date.now() > until) return false
  }
}

/** the bridges in a namespace */
async function bridges (topo: Topology, ns: string): Promise<string[]> {
  const out = await topo.exec(ns, ['ip', '-o', 'link', 'show', 'type', 'bridge'])
  return out.split('\n').filter((l) => l !== '').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').sort()
}

async function dhcpThroughTunnel (t: ExecutionContext, line: Line): Promise<void> {
  // a first QEMU golden boots a guest under TCG
  t.timeout(300_000)
  const { dir, topo, running } = await netnsFixture(t, 'vmplant-udh-', { sites: 1, hostsPerSite: 2 }, { qemuPlants: line === 'qemu' ? ['plant'] : [] })
  const plantHost = topo.sites[0]!.hosts[1] as NetHost
  const { gateway, lanHost, lanBridge } = topo.client
  const cli = async (...args: string[]): Promise<string> => await topo.exec(gateway.ns, [process.execPath, VMPLANT_BIN, ...args], { timeoutMs: 90_000 })
  const started = Date.now()
  const stage = (what: string): void => { t.log(`${what}: ${Date.now() - started} ms`) }

  // the client LAN's DHCP server, on the LAN bridge of the client's gateway
  const leases = await dir.write('udhcpd.leases', '')
  const serverConfig = await dir.write('udhcpd.conf', [
    `start ${CLIENT_LAN}.${RANGE.start}`, `end ${CLIENT_LAN}.${RANGE.end}`, `interface ${lanBridge}`,
    `lease_file ${leases}`, `pidfile ${join(dir.path, 'udhcpd.pid')}`,
    'option subnet 255.255.255.0', `option router ${LAN_GATEWAY}`, 'option lease 600', ''
  ].join('\n'))
  const dhcpd = topo.spawn(gateway.ns, [BUSYBOX, 'udhcpd', '-f', serverConfig])
  running.add(dhcpd)

  const { shop, shopAddr } = await startShopIn(topo, dir.write, 1000)
  running.add(shop)
  const plantConfig = await dir.write('plant.yaml', `roles: [plant]\nlisten: [/ip4/${plantHost.address}/tcp/4001]\nbootstrap: [${shopAddr}]\ndataDir: plant\nredialMs: 200\nplant:\n  memoryMB: ${LINES[line].plantMB}\n  driver: ${LINES[line].driver}\n`)
  const plant = await startReady(topo.spawnNode(plantHost.ns, [PLANT_CHILD, plantConfig]))
  running.add(plant)
  const plantPeer = plant.ready.peer
  stage('plant up')

  const keys = { a: join(dir.path, 'a.key'), b: join(dir.path, 'b.key') }
  await Promise.all([cli('domain', 'create', 'dom-a', '--key', keys.a), cli('domain', 'create', 'dom-b', '--key', keys.b)])
  // the proxy runs before the domain has a VM anywhere: it follows the plant once the order is in production
  const proxy = topo.spawnNode(gateway.ns, [VMPLANT_BIN, 'vnet', 'proxy', '--shop', shopAddr, '--domain', 'dom-a', '--bridge', lanBridge, '--key', keys.a, '--poll-ms', '300'])
  running.add(proxy)
  await proxy.waitFor(/"event":"ready"/, 30_000)

  const spec = async (name: string, body: object): Promise<string> => await dir.write(name, JSON.stringify({ hardware: { memoryMB: LINES[line].vmMB, os: 'linux' }, ...body }))
  const specA = await spec('a.json', { network: { dhcp: true }, actions: [{ id: 'route', run: 'ip route show default', exports: [] }] })
  // the shop may not know the plant yet: it then has no offer
  const a = JSON.parse(await eventually(async () => await cli('create', '--shop', shopAddr, '--spec', specA, '--domain', 'dom-a', '--key', keys.a, '--json'), 60_000, 300))
  stage('A made with DHCP')
  t.log(`the proxy was refused ${proxy.output().split('\n').filter((l) => /no network for domain|cannot attach/.test(l)).length} time(s) before the bridge was made; the network step took ${a.classad.timings.configuringMs} ms with the actions`)
  t.is(a.classad.plant, plantPeer)
  t.is(a.classad.line, line)
  t.is(a.classad.network.kind, 'bridge')
  const leased = /^10\.77\.250\.(\d+)\/24$/.exec(a.classad.nic?.address ?? '')
  t.truthy(leased, `the classad shows a leased address on the LAN's /24, not ${String(a.classad.nic?.address)}`)
  const octet = Number(leased?.[1])
  t.true(octet >= RANGE.start && octet <= RANGE.end, `the address comes from the server's range, not .${octet}`)
  const address = `${CLIENT_LAN}.${octet}`
  t.regex(a.classad.outputs.route.stdout, new RegExp(`default via ${LAN_GATEWAY.replaceAll('.', '\\.')} dev \\S+`), 'the lease\'s router is the default route before the actions run')
  t.regex(dhcpd.output(), new RegExp(`sending ACK to ${address.replaceAll('.', '\\.')}`), 'the LAN\'s server gave the lease')
  t.regex(await proxy.waitFor(new RegExp(`tunnel to ${plantPeer} up`), 1000), /up/, 'through the proxy\'s tunnel')

  t.true(await pingUntil(topo, lanHost, address, 20_000), 'the LAN host reaches the VM at its leased address')
  const neighbour = JSON.parse(await topo.exec(lanHost.ns, ['ip', '-j', 'neigh', 'show', address])) as Array<{ lladdr?: string }>
  t.is(neighbour[0]?.lladdr, a.classad.nic.mac, 'the answer comes from the classad\'s MAC')
  stage('A answers the LAN')

  // dom-b has no tunnel, so no server answers: the create fails at the spec's lease timeout
  const guestsBefore = pidsMentioning(dir.path)
  const bridgesBefore = await bridges(topo, plantHost.ns)
  t.deepEqual(bridgesBefore, [a.classad.network.name], 'the plant has A\'s bridge only')
  const specB = await spec('b.json', { network: { dhcp: true, leaseTimeoutMs: 3000 } })
  const failed = await t.throwsAsync(cli('create', '--shop', shopAddr, '--spec', specB, '--domain', 'dom-b', '--key', keys.b, '--json'))
  t.regex(failed?.message ?? '', /no DHCP lease within 3000 ms/, 'the error says the guest got no lease in time')
  stage('B failed without a lease')
  t.deepEqual(JSON.parse(await cli('list', '--shop', shopAddr, '--domain', 'dom-b', '--key', keys.b, '--json')).vms, [], 'dom-b has no VM, not even one being made')
  t.deepEqual(pidsMentioning(dir.path).filter((pid) => !guestsBefore.includes(pid)), [], 'no guest of B (no process the failed create started) is left running')
  t.deepEqual(await bridges(topo, plantHost.ns), bridgesBefore, 'B\'s bridge is gone')
  const links = (await topo.exec(plantHost.ns, ['ip', '-o', 'link', 'show'])).split('\n').filter((l) => l !== '')
  const stray = links.filter((l) => !/^\d+: (lo|eth0@\S+):/.test(l) && !l.includes(`: ${a.classad.network.name as string}:`) && !l.includes(`master ${a.classad.network.name as string}`))
  t.deepEqual(stray, [], 'and no tap but those on A\'s bridge')
  t.true(await topo.ping(lanHost, address, 2), 'A still answers its LAN')

  // A's last VM goes, and its bridge with it; the next one, made while the plant's tap of the
  // tunnel still lingers, gets a new bridge that the tap must join for the lease to come
  await cli('destroy', a.classad.vmid, '--shop', shopAddr, '--key', keys.a)
  await proxy.waitFor(new RegExp(`plant ${plantPeer} hosts no VM of the domain any more`), 30_000)
  t.deepEqual(await bridges(topo, plantHost.ns), [], 'A\'s bridge went with its last VM')
  const again = JSON.parse(await cli('create', '--shop', shopAddr, '--spec', specA, '--domain', 'dom-a', '--key', keys.a, '--json'))
  const address2 = (again.classad.nic?.address as string | undefined)?.split('/')[0] ?? ''
  t.regex(address2, /^10\.77\.250\.1[0-5]\d$/, 'a new first VM of A takes a lease through the tunnel again')
  t.true(await pingUntil(topo, lanHost, address2, 20_000), 'and answers the LAN')
  stage('A again, on a new bridge')

  // teardown, checked: nothing of the plant's, the server's or the proxy's is left
  await proxy.kill('SIGTERM')
  await plant.kill('SIGTERM')
  t.is(plant.child.exitCode, 0, plant.output())
  await shop.kill('SIGTERM')
  await dhcpd.kill('SIGTERM')
  t.deepEqual(pidsMentioning(dir.path), [], 'no linux.uml or udhcpd process is left')
  t.deepEqual(await bridges(topo, plantHost.ns), [], 'the domain bridges are gone')
  await topo.remove()
  t.false((await listNamespaces()).some((ns) => ns.includes(topo.runId)), 'every namespace is gone')
}

const TITLE = 'VM that asks for DHCP takes a lease from the client LAN\'s server through the tunnel, as the domain\'s first VM, and answers the LAN at it; without a server the create fails at its lease timeout and leaves nothing'
const utest = await lineTest('uml')
const qtest = await lineTest('qemu')
utest(`a UML ${TITLE}`, async (t) => { await dhcpThroughTunnel(t, 'uml') })
qtest(`a QEMU ${TITLE}`, async (t) => { await dhcpThroughTunnel(t, 'qemu') })
