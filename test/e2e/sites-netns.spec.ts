import { rootTest } from '../helpers/root.js'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { buildTopology, listNamespaces, startNodeIn, startShopIn, sweepStaleNamespaces, NETNS_PREFIX, type NetHost } from '../helpers/netns.js'
import { eventually, VMPLANT_BIN } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'

const run = promisify(execFile)

/** Names of the host namespace's links that look like this harness's (other tests may add links of their own meanwhile). */
async function links (): Promise<string[]> {
  const { stdout } = await run('ip', ['-o', 'link'], { encoding: 'utf8' })
  return stdout.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined && /^(v\d+h\d+|lanh\d+|br\d+|lan0|eth0)$/.test(n))
}

rootTest('three sites, a shop and a client site as namespaces: sites reach each other, the client LAN and the host stay apart, and nothing is left', async (t) => {
  const linksBefore = await links()
  const topo = await buildTopology({ sites: 3, hostsPerSite: 2 })
  t.teardown(async () => { await topo.remove() })

  const present = await listNamespaces()
  for (const ns of topo.namespaces) t.true(present.includes(ns), `${ns} exists`)
  t.is(topo.namespaces.length, 1 + 3 * 2 + 1 + 2, 'core, 6 site hosts, shop, client gateway and LAN host')
  t.true(topo.namespaces.every((ns) => ns.startsWith(NETNS_PREFIX + topo.runId)))
  t.deepEqual(await links(), linksBefore, 'nothing is made in the host\'s own namespace')

  const [s1, s2, s3] = topo.sites
  const plant1 = s1!.hosts[1]!
  t.deepEqual(topo.sites.map((s) => s.subnet), ['10.77.1', '10.77.2', '10.77.3'])
  t.is(plant1.address, '10.77.1.11')
  // across sites, through the core's routing
  t.true(await topo.ping(plant1, s2!.hosts[0]!.address), 'site 1 plant reaches site 2 broker')
  t.true(await topo.ping(s3!.hosts[1]!, topo.shop.address), 'site 3 plant reaches the shop')
  t.true(await topo.ping(topo.shop, s1!.hosts[0]!.address), 'the shop reaches site 1 broker')
  t.true(await topo.ping(topo.client.gateway, topo.shop.address), 'the client gateway reaches the shop')
  t.true(await topo.ping(topo.client.lanHost, topo.client.gateway.address), 'a client LAN host reaches its gateway')
  // the client LAN is not routed: sites cannot reach it, it cannot reach sites
  t.false(await topo.ping(plant1, topo.client.lanHost.address, 1), 'a site cannot reach the client LAN')
  t.false(await topo.ping(topo.client.lanHost, plant1.address, 1), 'the client LAN cannot reach a site')
  // no namespace has a way to the host's own network
  const hostAddrs = (await run('ip', ['-o', '-4', 'addr', 'show', 'scope', 'global'], { encoding: 'utf8' })).stdout.split('\n').map((l) => /inet (\S+)\//.exec(l)?.[1]).filter((a): a is string => a !== undefined)
  for (const addr of hostAddrs.slice(0, 2)) t.false(await topo.ping(plant1, addr, 1), `a site host cannot reach the host's ${addr}`)

  // a process inside a namespace sees only that namespace's addresses, and is ended by pid
  const proc = topo.spawnNode(plant1.ns, ['-e', 'console.log(JSON.stringify(Object.values(require("os").networkInterfaces()).flat().map(i => i.address))); setInterval(() => {}, 1000)'])
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no output: ${proc.output()}`)) }, 20_000)
    proc.child.stdout?.on('data', () => { clearTimeout(timer); resolve() })
  })
  t.true(proc.output().includes('10.77.1.11'))
  t.false(hostAddrs.some((a) => proc.output().includes(`"${a}"`)))
  await proc.kill()
  t.not(proc.child.signalCode, null)

  await topo.remove()
  await topo.remove()
  const after = await listNamespaces()
  t.false(after.some((ns) => ns.startsWith(NETNS_PREFIX + topo.runId)), 'every namespace of the run is gone')
  t.deepEqual(await links(), linksBefore, 'no link is left in the host\'s namespace')
})

rootTest('a sweep removes the namespaces (and their processes) of a run whose owner died, and leaves live runs alone', async (t) => {
  // a dead owner: a process that has exited
  const dead = await new Promise<number>((resolve) => {
    const child = execFile(process.execPath, ['-e', ''])
    child.on('exit', () => { resolve(child.pid as number) })
  })
  const stale = `${NETNS_PREFIX}${dead}r0badc0-core`
  const live = await buildTopology({ sites: 1, hostsPerSite: 1 })
  t.teardown(async () => {
    await live.remove()
    await run('ip', ['netns', 'del', stale]).catch(() => {})
  })
  await run('ip', ['netns', 'add', stale])
  const sleeper = execFile('ip', ['netns', 'exec', stale, 'sleep', '600'])
  const sleeperExit = new Promise((resolve) => sleeper.on('exit', resolve))
  await new Promise<void>((resolve, reject) => {
    const until = Date.now() + 10_000
    const look = (): void => {
      run('ip', ['netns', 'pids', stale], { encoding: 'utf8' }).then(({ stdout }) => {
        if (stdout.trim() !== '') resolve()
        else if (Date.now() > until) reject(new Error('the sleeper never entered the namespace'))
        else setImmediate(look)
      }, reject)
    }
    look()
  })
  const swept = await sweepStaleNamespaces()
  t.true(swept.includes(stale))
  await sleeperExit
  const now = await listNamespaces()
  t.false(now.includes(stale))
  t.true(live.namespaces.every((ns) => now.includes(ns)), 'a live run\'s namespaces stay')
})

rootTest('a federation across namespaces: a shop at its site, a broker and a sim plant at site 1, and a client at its own site creating through them', async (t) => {
  const dir = await tempDir()
  const topo = await buildTopology({ sites: 1, hostsPerSite: 2 })
  t.teardown(async () => {
    await topo.remove()
    await dir.remove()
  })
  const [broker, plant] = topo.sites[0]!.hosts as [NetHost, NetHost]
  const { shop, shopAddr } = await startShopIn(topo, dir.write, 3000)
  t.true(shop.ready.addrs.every((a) => a.includes(topo.shop.address)), 'the shop listens on its site address only')
  const brokerNode = await startNodeIn(topo, broker.ns, await dir.write('broker.yaml', `roles: [broker]\nsite: s1\nlisten: [/ip4/${broker.address}/tcp/4001]\nbootstrap: [${shopAddr}]\ndataDir: broker\nredialMs: 200\n`), VMPLANT_BIN)
  const brokerAddr = `/ip4/${broker.address}/tcp/4001/p2p/${brokerNode.ready.peer}`
  const plantNode = await startNodeIn(topo, plant.ns, await dir.write('plant.yaml', `roles: [plant]\nsite: s1\nlisten: [/ip4/${plant.address}/tcp/4001]\nbootstrap: [${brokerAddr}]\ndataDir: plant\nredialMs: 200\nplant:\n  driver: { kind: sim }\n`), VMPLANT_BIN)
  const spec = await dir.write('spec.json', JSON.stringify({ hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }))

  // the client runs at its own site: `vmplant create` inside the client gateway's namespace
  const created = await eventually(async () => {
    const out = await topo.exec(topo.client.gateway.ns, [process.execPath, VMPLANT_BIN, 'create', '--shop', shopAddr, '--spec', spec, '--domain', 'lab', '--key', join(dir.path, 'client.key'), '--json'], { timeoutMs: 30_000 })
    const result = JSON.parse(out.trim().split('\n').pop() as string)
    if (result.bidding.offers.length === 0) throw new Error('no offer yet')
    return result
  }, 30_000, 500)
  t.is(created.classad.plant, plantNode.ready.peer, 'site 1\'s plant made the VM')
  t.is(created.bidding.offers[0].via, brokerNode.ready.peer, 'through site 1\'s broker')
  t.is(created.classad.outputs.hello.stdout, 'hello\n')
})
