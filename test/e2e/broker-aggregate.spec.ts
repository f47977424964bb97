import test from 'ava'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { VmplantNode } from '../../src/daemon/vmplant-node.js'
import { validateNodeConfig } from '../../src/daemon/config.js'
import { waitForBidders } from '../../src/daemon/embedded.js'
import { createNode, type VmplantLibp2p } from '../../src/net/node.js'
import { bidsService, type BidsService } from '../../src/net/protocols/bids/index.js'
import { answeringInbox } from '../helpers/inbox.js'
import { siteLoadTopic } from '../../src/net/protocols/load/index.js'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { VmplantClient } from '../../src/cli/client.js'
import { plantMessages } from '../../src/actors/plant/messages.js'
import { actionIdentity, validateSpec } from '../../src/planner/index.js'
import type { Message } from '../../src/actors/runtime/index.js'
import type { BidAnswer, BidCall, LoadReport } from '../../src/interface/index.js'
import { tempDir } from '../helpers/temp.js'

const WEB = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'net', run: 'echo net' }, { id: 'web', run: 'echo web', after: ['net'] }] }
const DB = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'net', run: 'echo net' }, { id: 'db', run: 'echo db', after: ['net'] }, { id: 'schema', run: 'echo schema', after: ['db'] }] }

/** polls `check` until it holds, for at most `ms` */
async function until (what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** a call for bids as a shop makes it, answered to `replyTo` */
function callFor (spec: typeof WEB, domain: string, domainKey: string | undefined, replyTo: string, n: number): BidCall {
  const valid = validateSpec(spec)
  return {
    type: 'bid.call',
    requestId: `probe-${n}`,
    replyTo: { peer: replyTo, addrs: [] },
    hardware: valid.hardware,
    domain,
    ...(domainKey !== undefined ? { domainKey } : {}),
    actionCount: valid.actions.length,
    dag: valid.actions.map((a) => ({ id: a.id, identity: actionIdentity(a), after: a.after })),
    windowMs: 5000
  }
}

test('a broker answers from its plants\' load reports what its plants would have bid, asking only the plant it chose', async (t) => {
  const dir = await tempDir()
  const nodes: VmplantNode[] = []
  let prober: VmplantLibp2p | undefined
  let probes: BidsService | undefined
  let client: VmplantClient | undefined
  t.teardown(async () => {
    await client?.stop()
    await probes?.stop()
    await prober?.stop()
    await Promise.all(nodes.map(async (n) => n.stop({ destroyVms: true })))
    await dir.remove()
  })
  /** what the broker last heard from each plant, and how many calls for bids each plant got */
  const reports = new Map<string, LoadReport>()
  const calls = new Map<string, number>()
  const start = async (name: string, config: Record<string, unknown>, trace?: (actor: string, message: Message) => void): Promise<VmplantNode> => {
    const node = new VmplantNode(validateNodeConfig({ dataDir: join(dir.path, name), listen: ['/ip4/127.0.0.1/tcp/0'], ...config }), { name, ...(trace !== undefined ? { trace } : {}) })
    nodes.push(node)
    await node.start()
    return node
  }
  const shop = await start('shop', { roles: ['shop'], shop: { bidWindowMs: 5000 } })
  const broker = await start('broker', { roles: ['broker'], site: 'east', bootstrap: [shop.multiaddrs[0]] }, (_, m) => {
    if (m.type === 'load.report') { const { report } = m as unknown as { report: LoadReport }; reports.set(report.plant, report) }
  })
  // warm bids: VMs, networks and golden images all count; east-0 holds at most two VMs
  const configs = [{ networkCost: 30, maxVms: 2 }, { networkCost: 40 }, { networkCost: 50 }]
  const plants: VmplantNode[] = []
  for (const [i, cost] of configs.entries()) {
    const name = `east-${i}`
    plants.push(await start(name, { roles: ['plant'], site: 'east', bootstrap: [broker.multiaddrs[0]], plant: { cost: { model: 'warm', ...cost }, learning: { after: 1 } } }, (actor, m) => {
      if (actor === 'plant' && m.type === 'bid.call') calls.set(name, (calls.get(name) ?? 0) + 1)
    }))
  }
  const totalCalls = (): number => [...calls.values()].reduce((a, b) => a + b, 0)
  await waitForBidders(shop, [broker.peerId], AbortSignal.timeout(20_000))
  await until('the broker has every plant\'s report', () => plants.every((p) => reports.has(p.peerId)))

  // different states: east-0 fills with two VMs of grid (and learns the web image), east-1 gets the db VM
  client = new VmplantClient({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519') })
  await client.start()
  const made = []
  /** the key of each domain the client made VMs in: a call names it as the shop's would */
  const keys = new Map<string, string | undefined>()
  for (const [spec, domain] of [[WEB, 'grid'], [WEB, 'grid'], [DB, 'lab']] as const) {
    const before = totalCalls()
    const result = await client.create(spec, domain)
    t.is(totalCalls() - before, 1, `the create in ${domain} asked one plant`)
    t.regex(result.bidding.offers[0]?.reason ?? '', /best of \d at site east, by load reports/)
    made.push(result.classad.plant)
    keys.set(domain, result.classad.domainKey)
  }
  t.deepEqual(made, [plants[0]!.peerId, plants[0]!.peerId, plants[1]!.peerId])
  // the broker has heard of every VM and every image the plants now hold
  await until('the broker\'s view is the plants\' own', async () => {
    for (const plant of plants) {
      const status = await plant.plantStatus()
      const images = await plant.actors.plant!.ask(plantMessages.warehouse({ type: 'warehouse.list' })) as unknown[]
      const report = reports.get(plant.peerId)
      if (report?.load.runningVms !== status.vms + status.producing || report.images.length !== images.length) return false
    }
    return true
  })

  // a peer that calls for bids directly, as a shop with `choices` does: each plant's own bid, then the broker's
  prober = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  const answers = new Map<string, (answer: BidAnswer) => void>()
  probes = bidsService({ libp2p: prober }, { plant: false, broker: false, shop: true }, { inbox: answeringInbox((command) => { if (command.type === 'bid.answer') answers.get(command.answer.requestId)?.(command.answer) }) })
  await probes.start()
  await prober.start()
  probes.subscribe()
  for (const node of [broker, ...plants]) await prober.dial(multiaddr(node.multiaddrs[0] as string))
  let n = 0
  const ask = async (peer: string, spec: typeof WEB, domain: string): Promise<BidAnswer> => {
    const call = callFor(spec, domain, keys.get(domain), prober!.peerId.toString(), n++)
    const answered = new Promise<BidAnswer>((resolve, reject) => {
      answers.set(call.requestId, resolve)
      setTimeout(() => reject(new Error(`${peer} did not answer ${call.requestId}`)), 10_000).unref()
    })
    await probes!.callPeers([peer], call)
    return await answered
  }

  for (const [spec, domain] of [[WEB, 'grid'], [DB, 'lab'], [WEB, 'fresh'], [DB, 'grid']] as const) {
    const own = await Promise.all(plants.map(async (p) => await ask(p.peerId, spec, domain)))
    const offers = own.flatMap((a) => a.type === 'bid.offer' ? [a] : [])
    t.true(offers.length > 0)
    const best = Math.min(...offers.map((o) => o.cost))
    const before = totalCalls()
    const brokered = await ask(broker.peerId, spec, domain)
    t.is(totalCalls() - before, 1, `${domain}: the broker asked one plant to confirm`)
    if (brokered.type !== 'bid.offer') return t.fail(`${domain}: the broker declined: ${brokered.reason}`)
    t.is(brokered.cost, best, `${domain}: the broker's cost is the best the plants bid`)
    t.true(offers.some((o) => o.cost === best && o.plant.peer === brokered.plant.peer), `${domain}: the broker chose a plant that bid the best`)
    t.is(brokered.via, broker.peerId)
    const mine = offers.find((o) => o.plant.peer === brokered.plant.peer)
    t.is(brokered.reason.split(' (')[0], mine?.reason.split(' (')[0], 'and forwards that plant\'s own reasoning')
  }
  // east-0 is full: its own answer is a decline, and the broker never asked it
  const full = await ask(plants[0]!.peerId, WEB, 'grid')
  t.is(full.type, 'bid.decline')
})

test('a load report is taken only from the plant it names', async (t) => {
  const dir = await tempDir()
  let broker: VmplantNode | undefined
  let rogue: VmplantLibp2p | undefined
  t.teardown(async () => {
    await rogue?.stop()
    await broker?.stop()
    await dir.remove()
  })
  const heard: LoadReport[] = []
  broker = new VmplantNode(validateNodeConfig({ dataDir: join(dir.path, 'broker'), listen: ['/ip4/127.0.0.1/tcp/0'], roles: ['broker'], site: 'east' }), {
    name: 'broker',
    trace: (_, m) => { if (m.type === 'load.report') heard.push((m as unknown as { report: LoadReport }).report) }
  })
  await broker.start()
  rogue = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  await rogue.start()
  await rogue.dial(multiaddr(broker.multiaddrs[0] as string))
  const topic = siteLoadTopic('east')
  await until('the rogue sees the broker listen to the site\'s reports', () => rogue!.services.pubsub.getSubscribers(topic).some((p) => p.toString() === broker!.peerId))
  const report = (plant: string): LoadReport => ({
    type: 'load.report', plant, epoch: 1, seq: 1, ttlMs: 30_000, cost: { model: 'paper', computeCost: 0, networkCost: 0, maxNetworks: 4, maxVms: 32 },
    line: { kind: 'sim', minMemoryMB: 16, overheadMB: 0 }, load: { runningVms: 0, domains: [], memoryUsedMB: 0, memoryCapacityMB: 4096 }, images: []
  })
  const victimId = peerIdFromPublicKey((await generateKeyPair('Ed25519')).publicKey).toString()
  await rogue.services.pubsub.publish(topic, new TextEncoder().encode(JSON.stringify(report(victimId))))
  await rogue.services.pubsub.publish(topic, new TextEncoder().encode(JSON.stringify(report(rogue.peerId.toString()))))
  await until('the rogue\'s own report arrives', () => heard.some((r) => r.plant === rogue!.peerId.toString()))
  t.deepEqual(heard.map((r) => r.plant), [rogue.peerId.toString()], 'the report in another plant\'s name never reached the broker')
  t.true(broker.dropped.some((d) => d.from === rogue!.peerId.toString() && /names plant .* but was published by/.test(d.reason)))
})
