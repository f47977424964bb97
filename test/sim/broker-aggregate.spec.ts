import test from 'ava'
import { answeringInbox } from '../helpers/inbox.js'
import { join } from 'node:path'
import { startSimFederation, type SimFederationInit, type SimPlantInit } from '../../sim/federation.js'
import { loadScenario } from '../../sim/scenario.js'
import { runScenario } from '../../sim/run.js'
import { packageRoot } from '../../src/paths.js'
import type { Message } from '../../src/actors/runtime/index.js'
import type { BidCall, LoadReport } from '../../src/interface/index.js'
import { COST_DEFAULTS } from '../../src/pricing/index.js'

const SPEC = { hardware: { memoryMB: 128, os: 'linux' }, actions: [{ id: 'net', run: 'echo ip_address=10.0.0.7', exports: ['ip_address'] }, { id: 'app', run: 'echo installed', after: ['net'] }] }
const LINE = { cloneMs: 40, resumeMs: 10, actionMs: 100 }

/** eight plants behind one broker, each a network cost of its own, so that no two bids tie */
function eastPlants (n = 8): SimPlantInit[] {
  return Array.from({ length: n }, (_, i) => ({ site: 'east', line: LINE, cost: { computeCost: 4, networkCost: 20 + 7 * i, maxVms: 3 } }))
}

/** a federation whose actors' messages are counted: `calls(i)` is how many calls for bids plant i got */
async function counted (init: Omit<SimFederationInit, 'trace'>) {
  const calls = new Map<string, number>()
  const trace = (actor: string, message: Message): void => {
    if (message.type === 'bid.call' && actor.startsWith('plant-')) calls.set(actor, (calls.get(actor) ?? 0) + 1)
  }
  const federation = await startSimFederation({ ...init, trace })
  const total = (): number => [...calls.values()].reduce((a, b) => a + b, 0)
  return { federation, calls: (i: number) => calls.get(`plant-${i}`) ?? 0, total }
}

test('through an aggregating broker a create costs the site one plant call, not one per plant', async (t) => {
  const aggregating = await counted({ brokers: ['east'], plants: eastPlants(), shop: { bidWindowMs: 1000 } })
  t.teardown(aggregating.federation.stop)
  const broadcasting = await counted({ brokers: ['east'], plants: eastPlants(), shop: { bidWindowMs: 1000 }, loadReports: false })
  t.teardown(broadcasting.federation.stop)
  // the plants' first reports reach the broker
  await aggregating.federation.clock.run(aggregating.federation.clock.sleep(100))

  for (let i = 0; i < 6; i++) {
    const before = { aggregating: aggregating.total(), broadcasting: broadcasting.total() }
    const one = await aggregating.federation.create(SPEC, `domain-${i % 2}`)
    const other = await broadcasting.federation.create(SPEC, `domain-${i % 2}`)
    t.is(aggregating.total() - before.aggregating, 1, `create ${i}: one plant was asked`)
    t.is(broadcasting.total() - before.broadcasting, 8, `create ${i}: every plant was asked`)
    // the same decision as asking every plant
    t.is(one.classad.plant, other.classad.plant, `create ${i}`)
    t.is(one.classad.cost, other.classad.cost, `create ${i}`)
    t.is(one.bidding.offers[0]?.via, 'sim-broker-east')
    t.regex(one.bidding.offers[0]?.reason ?? '', /best of \d+ at site east, by load reports/)
  }
  // three VMs of a domain fill plant 0 (maxVms 3): the reports tell the broker, so it stops asking it
  t.is(aggregating.calls(0), 3)
})

test('the paper\'s 3.4 illustration holds through an aggregating broker', async (t) => {
  const paper = await loadScenario(join(packageRoot, 'sim', 'scenarios', 'paper-3.4.yaml'))
  const behindBroker = { ...paper, topology: { ...paper.topology, sites: paper.topology.sites.map((s) => ({ ...s, broker: true })) } }
  for (const seed of [3, 1]) {
    const { rows, summary } = await runScenario(behindBroker, { seed })
    const first = rows[0]?.plant
    t.deepEqual(rows.map((r) => r.plant === first), [...Array(13).fill(true), false], `seed ${seed}`)
    t.deepEqual(rows.map((r) => r.cost), [50, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 50], `seed ${seed}`)
    t.like(summary, { requests: 14, ok: 14, lost: 0 })
  }
})

test('a plant whose reports stop is no longer chosen', async (t) => {
  const { federation, calls } = await counted({ brokers: ['east'], plants: eastPlants(3), shop: { bidWindowMs: 1000 }, loadReports: { heartbeatMs: 1000 } })
  t.teardown(federation.stop)
  const { clock, network } = federation
  await clock.run(clock.sleep(100))
  // the cheapest plant dies: until its reports run out the broker still picks it, finds it silent and asks the next
  network.setDown('sim-plant-0', true)
  const started = clock.now()
  const stale = await federation.create(SPEC, 'grid')
  t.is(stale.classad.plant, 'sim-plant-1')
  t.regex(stale.bidding.offers[0]?.reason ?? '', /best of 3 at site east/)
  t.true(clock.now() - started >= 200, 'the broker waited for the dead plant\'s confirmation first')
  t.is(calls(0), 0, 'the dead plant got nothing')
  // three heartbeats later the broker takes it for dead
  await clock.run(clock.sleep(3_500))
  const before = clock.now()
  const fresh = await federation.create(SPEC, 'grid')
  t.is(fresh.classad.plant, 'sim-plant-1')
  t.regex(fresh.bidding.offers[0]?.reason ?? '', /best of 2 at site east/)
  t.true(fresh.bidding.attempts.length === 1)
  t.true(clock.now() - before < 400, `no confirmation was waited for: ${clock.now() - before} ms`)
  // it comes back, reports, and wins again
  network.setDown('sim-plant-0', false)
  await clock.run(clock.sleep(1_500))
  const back = await federation.create(SPEC, 'other')
  t.is(back.classad.plant, 'sim-plant-0')
})

test('a plant that declines the broker\'s confirmation, or stays silent, makes the broker ask the next', async (t) => {
  const { federation, calls } = await counted({ brokers: ['east'], plants: eastPlants(2), shop: { bidWindowMs: 1000 } })
  t.teardown(federation.stop)
  const { clock, network } = federation
  // two peers of the site that report a load cheaper than anyone's: one declines every call, one never answers
  const asked: Record<string, BidCall[]> = { 'sim-decliner': [], 'sim-silent': [] }
  const report = (plant: string, seq: number): LoadReport => ({
    type: 'load.report', plant, epoch: 0, seq, ttlMs: 60_000, cost: { ...COST_DEFAULTS, networkCost: 0 }, line: { kind: 'sim', minMemoryMB: 16, overheadMB: 0 },
    load: { runningVms: 0, domains: [], memoryUsedMB: 0, memoryCapacityMB: 4096 }, images: []
  })
  for (const peer of Object.keys(asked)) {
    const transport = network.join(peer, {
      plant: { site: 'east' },
      inbox: answeringInbox((command) => {
        // as a plant does, it reports again when its site's broker is reached
        if (command.type === 'load.wanted') void transport.reportLoad(report(peer, 2))
        if (command.type !== 'bid.call') return
        const { call } = command
        asked[peer]?.push(call)
        if (peer === 'sim-decliner') void transport.answer(call.replyTo, { type: 'bid.decline', requestId: call.requestId, bidder: peer, reason: 'changed my mind' })
      })
    })
    await transport.reportLoad(report(peer, 1))
  }
  await clock.run(clock.sleep(100))
  const result = await federation.create(SPEC, 'grid')
  t.is(result.classad.plant, 'sim-plant-0', 'the cheapest real plant, asked third')
  t.is(asked['sim-decliner']?.length, 1)
  t.is(asked['sim-silent']?.length, 1)
  t.is(calls(0), 1)
  t.is(calls(1), 0, 'the dearer real plant was never asked')
  // the confirmation names the shop's request, so the plant took the shop's order
  const confirmation = asked['sim-decliner']?.[0]
  t.is(confirmation?.origin?.caller, 'sim-shop')
  t.is(confirmation?.replyTo.peer, 'sim-broker-east')
})

test('with a report no plant of the site could bid on, the broker declines without asking any', async (t) => {
  const { federation, total } = await counted({ brokers: ['east'], plants: eastPlants(2), shop: { bidWindowMs: 1000 } })
  t.teardown(federation.stop)
  await federation.clock.run(federation.clock.sleep(100))
  const error = await t.throwsAsync(federation.create({ hardware: { memoryMB: 8192, os: 'linux' }, actions: [] }, 'grid'))
  t.regex(error.message, /site east: .*needs 8192 MB/)
  t.is(total(), 0)
})
