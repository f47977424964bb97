/**
 * Issue 10's golden images between sites, with the sites as network namespaces
 * (test/helpers/netns.ts) rather than on 127.0.0.1: site 1's plant holds a QEMU golden, site 2's
 * plant (the only one with room for the VM) finds it through the DHT, prices the fetch in its bid,
 * fetches it across the sites' veth links and the core's routing, and clones it. The loopback
 * variant (qemu-image-sites.spec.ts) also shows a corrupted transfer refused.
 */
import test, { type TestFn } from 'ava'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defaultGoldenShmDir } from '../../src/daemon/create-line.js'
import { lineUnavailable } from '../../src/hypervisor/available.js'
import { qemuLine } from '../../src/hypervisor/qemu/index.js'
import { listNamespaces, startNodeIn, startReady, type NetHost, type NsProcess } from '../helpers/netns.js'
import { pidsMentioning } from '../helpers/hypervisors.js'
import { eventually, VMPLANT_BIN } from '../helpers/processes.js'
import { publishGolden } from '../helpers/publish.js'
import { netnsFixture } from '../helpers/netns-fixture.js'

const PLANT_CHILD = fileURLToPath(new URL('../helpers/image-plant-child.js', import.meta.url))

const missing = process.getuid?.() !== 0 ? 'network namespaces need root' : await lineUnavailable('qemu')
const qtest: TestFn['serial'] = missing === undefined || process.env.CI !== undefined ? test.serial : test.serial.skip as unknown as TestFn['serial']
if (missing !== undefined && process.env.CI === undefined) console.warn(`skipping the QEMU image-sites namespace test: ${missing}`)

/** the golden made at site 1 has the first action applied: a file in the guest that the clone at site 2 reads */
const SPEC = {
  hardware: { memoryMB: 128, os: 'linux' },
  actions: [
    { id: 'made', run: 'echo made-at-site-1 > /root/origin' },
    { id: 'read', run: 'cat /root/origin', after: ['made'] }
  ]
}
const DRIVER = '{ kind: qemu, poolSize: 0, accel: auto, tbSizeMB: 64, diskMB: 64, overheadMB: 64 }'

qtest('site 2\'s plant, in a namespace of its own, fetches a QEMU golden made at site 1 across the sites\' links, prices the fetch in its bid and clones it', async (t) => {
  // a golden build boots a guest under TCG (and builds the guest image on a fresh host)
  t.timeout(600_000)
  const { dir, topo, running } = await netnsFixture(t, 'vmplant-qin-', { sites: 2, hostsPerSite: 2 }, { qemuPlants: ['site1-plant', 'site2-plant'] })
  const site1 = join(dir.path, 'site1-plant')
  const goldenDirs = [site1, join(dir.path, 'site2-plant')].map((plant) => defaultGoldenShmDir(join(plant, 'line')))
  const started = Date.now()
  const stage = (what: string): void => { t.log(`${what}: ${Date.now() - started} ms`) }

  // site 1's golden is built here, on the files the plant will use, as `vmplant image publish` would
  const line = qemuLine({ workDir: join(site1, 'publish'), goldenDir: goldenDirs[0] as string, poolSize: 0, tbSizeMB: 64, diskMB: 64 })
  await line.start()
  const published = await publishGolden(line, site1, SPEC, 1).finally(async () => { await line.stop({ destroyAll: true }) })
  stage('golden published at site 1')

  const [s1, s2] = topo.sites as [typeof topo.sites[0], typeof topo.sites[0]]
  const [broker1Host, holderHost] = s1.hosts as [NetHost, NetHost]
  const [broker2Host, fetcherHost] = s2.hosts as [NetHost, NetHost]
  const shopConfig = await dir.write('shop.yaml', `roles: [shop]\nlisten: [/ip4/${topo.shop.address}/tcp/4001]\ndataDir: shop\nshop:\n  bidWindowMs: 12000\n  orderTimeoutMs: 300000\n`)
  const shop = await startNodeIn(topo, topo.shop.ns, shopConfig, VMPLANT_BIN)
  running.add(shop)
  const shopAddr = `/ip4/${topo.shop.address}/tcp/4001/p2p/${shop.ready.peer}`
  const broker = async (host: NetHost, site: string): Promise<string> => {
    const config = await dir.write(`${site}-broker.yaml`, `roles: [broker]\nsite: ${site}\nlisten: [/ip4/${host.address}/tcp/4001]\nbootstrap: [${shopAddr}]\ndataDir: ${site}-broker\nredialMs: 200\n`)
    const node = await startNodeIn(topo, host.ns, config, VMPLANT_BIN)
    running.add(node)
    return `/ip4/${host.address}/tcp/4001/p2p/${node.ready.peer}`
  }
  const [broker1, broker2] = await Promise.all([broker(broker1Host, 'site-1'), broker(broker2Host, 'site-2')])
  const plant = async (host: NetHost, name: string, site: string, brokerAddr: string, plantYaml: string, env: NodeJS.ProcessEnv): Promise<NsProcess & { ready: { peer: string } }> => {
    const config = await dir.write(`${name}.yaml`, `roles: [plant]\nsite: ${site}\nlisten: [/ip4/${host.address}/tcp/4001]\nbootstrap: [${brokerAddr}]\ndataDir: ${name}\nredialMs: 200\nplant:\n${plantYaml}`)
    const node = await startReady(topo.spawnNode(host.ns, [PLANT_CHILD, config], env))
    running.add(node)
    return node
  }
  // site 1's plant holds the golden but has no memory for a VM of 128 MB: the create goes to site 2
  const holder = await plant(holderHost, 'site1-plant', 'site-1', broker1, `  memoryMB: 64\n  driver: ${DRIVER}\n`, { VMPLANT_TEST_PROVIDE: '1' })
  await holder.waitFor(/"event":"provided"/, 120_000)
  const fetcher = await plant(fetcherHost, 'site2-plant', 'site-2', broker2, `  memoryMB: 2048\n  driver: ${DRIVER}\n  imageFetch: { bytesPerSecond: 1000000, costPerSecond: 2, lookupMs: 5000 }\n`, { VMPLANT_TEST_FIND: published.id })
  t.deepEqual(JSON.parse(await fetcher.waitFor(/"event":"found"/, 120_000)).holders, [holder.ready.peer], 'site 2 finds site 1\'s plant through the DHT')
  stage('site 2 found the holder')

  const specFile = await dir.write('spec.json', JSON.stringify(SPEC))
  const key = join(dir.path, 'client.key')
  const { gateway } = topo.client
  // the shop may not know both sites' brokers yet: it then has no offer
  const created = JSON.parse(await eventually(async () => await topo.exec(gateway.ns, [process.execPath, VMPLANT_BIN, 'create', '--shop', shopAddr, '--spec', specFile, '--key', key, '--json'], { timeoutMs: 300_000 }), 120_000, 1000))
  stage('VM made at site 2')
  t.is(created.classad.plant, fetcher.ready.peer, 'site 2\'s plant made the VM')
  t.is(created.classad.line, 'qemu')
  t.is(created.classad.goldenImage, published.id, 'from site 1\'s golden')
  t.deepEqual(created.classad.actions, { cloned: ['made'], run: ['read'] })
  t.is(created.classad.outputs.read?.stdout.trim(), 'made-at-site-1', 'the guest state checkpointed at site 1 runs at site 2')

  const offer = (created.bidding.offers as Array<{ plant: string, cost: number, reason: string }>).find((o) => o.plant === fetcher.ready.peer)
  t.regex(offer?.reason ?? '', new RegExp(`fetches golden image ${published.id.slice(-8)} from ${holder.ready.peer.slice(-8)} \\([0-9.]+ MB at 1\\.0 MB/s configured\\): [0-9]+, saves 1, 1 to run`), offer?.reason)
  t.log(`bid: ${offer?.reason ?? ''}; cloning (fetch included) ${created.classad.timings.cloningMs as number} ms`)

  const fetched = JSON.parse(await fetcher.waitFor(/"event":"image.fetched"/, 1000))
  t.is(fetched.peer, holder.ready.peer)
  t.true((fetched.remoteAddrs as string[]).some((a) => a.startsWith(`/ip4/${holderHost.address}/`)), `the transfer came from site 1's address across the core: ${(fetched.remoteAddrs as string[]).join(', ')}`)
  t.not(holderHost.address.split('.').slice(0, 3).join('.'), fetcherHost.address.split('.').slice(0, 3).join('.'), 'the two plants are on different site networks')
  t.true(existsSync(join(goldenDirs[1] as string, published.id, 'ram')), 'the RAM file sits in site 2\'s QEMU golden folder on tmpfs')

  // teardown, checked: the plants stop with their VMs, and nothing of theirs is left
  for (const proc of [...running].reverse()) await proc.kill('SIGTERM')
  t.deepEqual(pidsMentioning(dir.path), [], 'no QEMU process is left')
  await topo.remove()
  t.false((await listNamespaces()).some((ns) => ns.includes(topo.runId)), 'every namespace is gone')
})
