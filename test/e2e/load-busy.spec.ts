import test from 'ava'
import { z } from 'zod'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient as VmplantClientClass, type VmplantClient } from '../../src/cli/client.js'
import { nodeSet } from '../helpers/nodes.js'
import { createNode } from '../../src/net/node.js'
import { call, serve } from '../../src/net/rpc.js'
import { RemoteError } from '../../src/net/errors.js'
import { validateNodeConfig } from '../../src/daemon/config.js'
import { ConfigError } from '../../src/daemon/errors.js'
import { eventually, processAlive } from '../helpers/processes.js'
import { countOutcomes, fireCreates, listAll, simLineVms, warmPlants, loadTest } from '../helpers/load.js'

const spec = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }

test('the bounds are validated with errors that name them', (t) => {
  const bad = (config: Record<string, unknown>): string => t.throws(() => validateNodeConfig({ dataDir: 'x', ...config }), { instanceOf: ConfigError })?.message ?? ''
  t.regex(bad({ roles: ['shop'], shop: { maxPendingCreates: 0 } }), /shop\.maxPendingCreates: must be at least 1/)
  t.regex(bad({ roles: ['shop'], shop: { maxPendingCreates: 1.5 } }), /shop\.maxPendingCreates/)
  t.regex(bad({ roles: ['plant'], plant: { maxQueuedOrders: -3 } }), /plant\.maxQueuedOrders: must be at least 1/)
  t.regex(bad({ roles: ['plant'], plant: { maxQueuedOrders: 'many' } }), /plant\.maxQueuedOrders/)
  t.is(validateNodeConfig({ roles: ['shop', 'plant'], dataDir: 'x', shop: { maxPendingCreates: 20 }, plant: { maxQueuedOrders: 2 } }).shop.maxPendingCreates, 20)
  t.regex(bad({ roles: ['shop'], maxRequestsPerConnection: 0 }), /maxRequestsPerConnection: must be at least 1/)
  t.regex(bad({ roles: ['shop'], maxRequestsPerConnection: 1000 }), /maxRequestsPerConnection: must be below 1000/)
  t.is(validateNodeConfig({ roles: ['shop'], dataDir: 'x' }).maxRequestsPerConnection, 256)
})

test.serial('a node\'s maxRequestsPerConnection bounds one client\'s creates in flight: the rest are answered "busy" at once', async (t) => {
  const nodes = await nodeSet(t)
  // no plant: each admitted create waits out the shop's bid window for a bidder
  const shop = await nodes.start('shop', { roles: ['shop'], shop: { bidWindowMs: 3000 }, maxRequestsPerConnection: 2 })
  const client = new VmplantClientClass({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519') })
  await client.start()
  t.teardown(async () => { await client.stop() })
  // one connection first, so that all four creates share it
  await client.list()
  const order: number[] = []
  const settled = Array.from({ length: 4 }, async (_, i) => await client.create(spec, `bound-${i}`).then(() => 'made', (err) => err as Error).finally(() => { order.push(i) }))
  const outcomes = await Promise.all(settled)
  const isBusy = (o: unknown): boolean => o instanceof RemoteError && o.code === 'BusyError'
  const busy = outcomes.flatMap((o, i) => isBusy(o) ? [i] : [])
  t.is(busy.length, 2, outcomes.map(String).join('; '))
  t.deepEqual(order.slice(0, 2).sort(), busy, 'the creates past the bound are answered first, while the admitted ones wait for bids')
  for (const i of busy) t.regex(String(outcomes[i]), /2 requests in flight on \/vmplant\/client\/1\.0\.0, the limit for one connection/)
  for (const o of outcomes.filter((o) => !isBusy(o))) t.regex(String(o), /no plant bid/)
})

test.serial('requests past a connection\'s bound are answered "busy" at once, not reset, and the bound frees as they end', async (t) => {
  const server = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  const caller = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] })
  t.teardown(async () => { await caller.stop(); await server.stop() })
  let open!: () => void
  const released = new Promise<void>((resolve) => { open = resolve })
  const release = { promise: released, resolve: () => { open() } }
  let running = 0
  let threeRunning!: () => void
  const three = new Promise<void>((resolve) => { threeRunning = resolve })
  await serve(server, '/vmplant/test-busy/1.0.0', z.object({ n: z.number() }), async ({ n }) => {
    if (++running === 3) threeRunning()
    await release.promise
    return n
  }, { maxInboundStreams: 3 })
  await server.start()
  await caller.start()
  t.timeout(30_000)
  const address = server.getMultiaddrs()[0]!
  // one connection first (ten dials at once could open more than one, each with a bound of its
  // own), taking streams: right after a connection opens, libp2p here sometimes resets its first streams
  await serve(server, '/vmplant/test-echo/1.0.0', z.number(), async (n) => n)
  await eventually(async () => await call(caller, address, '/vmplant/test-echo/1.0.0', 1, z.number()), 10_000, 50)
  const answers = Array.from({ length: 10 }, async (_, n) => await call(caller, address, '/vmplant/test-busy/1.0.0', { n }, z.number()).then((v) => ({ ok: v }), (err) => ({ err })))
  // the 7 refusals come back while the 3 admitted requests still run
  let answered = 0
  await new Promise<void>((resolve) => { for (const a of answers) void a.then(() => { if (++answered === 7) resolve() }) })
  await three
  t.is(running, 3)
  t.is(answered, 7)
  release.resolve()
  const settled = await Promise.all(answers)
  const busy = settled.filter((s): s is { err: RemoteError } => 'err' in s)
  t.is(busy.length, 7)
  for (const { err } of busy) {
    t.true(err instanceof RemoteError, String(err))
    t.is(err.code, 'BusyError')
    t.regex(err.message, /^busy: .* has 3 requests in flight on \/vmplant\/test-busy\/1\.0\.0, the limit for one connection; retry later$/)
  }
  // the bound frees: the connection takes requests again
  t.is(await call(caller, address, '/vmplant/test-busy/1.0.0', { n: 42 }, z.number()), 42)
})

test('a shop and plants at their bounds refuse at once with "busy", and serve again afterwards', async (t) => {
  t.timeout(120_000)
  const run = await loadTest(t)
  // the shop takes 20 creates at a time; each plant produces 3 VMs at a time, and a VM takes 5 s
  const federation = await run.start({
    plants: 2,
    shop: { bidWindowMs: 20_000, maxPendingCreates: 20 },
    plant: { memoryMB: 100_000, maxQueuedOrders: 3, cost: { model: 'paper', maxNetworks: 16 }, driver: { kind: 'sim', cloneMs: 5000 } }
  })
  const peers = federation.plants.map((p) => p.ready.peer)
  const clients = await run.connect(2)
  await warmPlants(clients, spec, peers, 60_000)
  t.deepEqual((await listAll(clients)).vms, [])

  // the first order a full plant refuses says that both plants are full, for the next 5 s
  let full!: () => void
  const plantsFull = new Promise<void>((resolve) => { full = resolve })
  const burst = fireCreates(clients, 60, spec, 'busy', (o) => { if (!o.ok && /every plant that bid is busy/.test(o.message)) full() })
  await plantsFull
  // while they are, a call finds both busy: they decline, and the shop says so
  const probes = await fireCreates(clients.slice(1), 1, spec, 'probe')
  const outcomes = await burst
  const counts = countOutcomes(outcomes)
  t.log(`burst: ${counts.vms} VMs, ${counts.busy} busy, other ${JSON.stringify(counts.other)}; probes while it ran: ${JSON.stringify(countOutcomes(probes))}`)
  t.deepEqual(counts.other, {}, 'every create got a VM or a busy refusal')
  t.is(counts.vms + counts.busy, 60)
  const refusals = [...outcomes, ...probes].flatMap((o) => o.ok ? [] : [o.message])
  for (const message of refusals) t.regex(message, /^busy: .*; retry later$/)
  t.true(refusals.some((m) => /the shop has 20 creates in flight, its limit \(shop\.maxPendingCreates\)/.test(m)), 'the shop refused past its bound')
  t.true(refusals.some((m) => /every plant that bid is busy \(.*orders in production, its limit \(plant\.maxQueuedOrders\)/.test(m)), 'the plants refused orders past theirs')
  t.true(refusals.some((m) => /every bidder for request .* is busy \(.*orders in production/.test(m)), 'busy plants declined to bid, naming why')
  t.true(counts.vms >= 6, 'each plant made at least its 3 VMs')

  // the nodes are up, and serve once the work is done
  t.true(processAlive(federation.shop.pid))
  for (const p of federation.plants) t.true(processAlive(p.pid))
  const after = await clients[0]!.create(spec, 'busy')
  t.is(after.classad.state, 'running')
  const given = [...outcomes, ...probes].flatMap((o) => o.ok ? [o.result.classad.vmid] : []).concat(after.classad.vmid)
  const listed = await listAll(clients)
  t.deepEqual(listed.vms.map((v) => v.vmid).sort(), given.sort(), 'the plants hold exactly the VMs that were given out')
})

test('a create whose client goes away mid-production leaves no VM behind', async (t) => {
  t.timeout(90_000)
  const run = await loadTest(t)
  // the action takes 5 s: the VM is on the line, not yet committed, while the client gives up
  const federation = await run.start({ plants: 1, shop: { bidWindowMs: 10_000 }, plant: { memoryMB: 100_000, driver: { kind: 'sim', actionMs: 5000 } } })
  const clients = await run.connect(1)
  const client = clients[0] as VmplantClient
  await warmPlants(clients, { hardware: spec.hardware, actions: [] }, [federation.plants[0]!.ready.peer], 60_000)
  const plantDir = federation.plantDirs[0] as string

  const giveUp = new AbortController()
  const create = client.create(spec, 'gone', { signal: giveUp.signal })
  create.catch(() => {})
  await eventually(async () => { if ((await simLineVms(plantDir)).length === 0) throw new Error('no VM on the line yet') }, 20_000, 50)
  giveUp.abort()
  await create.then(() => { t.fail('the create went on after the client gave up') }, (err) => { t.is(err?.name, 'AbortError') })
  // the shop stops waiting, cancels the order, and the plant destroys the half-made VM
  await eventually(async () => { if ((await simLineVms(plantDir)).length > 0) throw new Error('the VM is still on the line') }, 30_000)
  t.deepEqual((await listAll(clients)).vms, [])
  // and the plant serves the next create
  const next = await client.create({ hardware: spec.hardware, actions: [] }, 'gone')
  t.is(next.classad.state, 'running')
})
