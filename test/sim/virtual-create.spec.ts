import test from 'ava'
import { startSimFederation, type SimFederation } from '../../sim/federation.js'
import { NoBidsError } from '../../src/interface/index.js'
import { plantMessages } from '../../src/actors/plant/messages.js'
import { withoutHostTimers } from '../helpers/host-timers.js'

const SPEC = {
  hardware: { memoryMB: 128, os: 'linux' },
  actions: [
    { id: 'net', run: 'echo ip_address=10.0.0.7', exports: ['ip_address'] },
    { id: 'app', run: 'echo installed', after: ['net'] }
  ]
}

async function leftovers (federation: SimFederation): Promise<{ vms: number, records: number }> {
  let vms = 0
  let records = 0
  for (const plant of federation.plants) {
    vms += (await plant.line.list()).length
    records += (await plant.store.listVms()).length
  }
  return { vms, records }
}

test('a create runs through the shop, a broker and plants on a virtual clock, with no host timer', async (t) => {
  const { value, timers } = await withoutHostTimers(async () => {
    const federation = await startSimFederation({
      brokers: ['east'],
      plants: [
        { site: 'east', line: { cloneMs: 40, resumeMs: 10, actionMs: 100 } },
        { site: 'east', line: { cloneMs: 40, resumeMs: 10, actionMs: 100 }, cost: { networkCost: 20 } },
        { line: { cloneMs: 40, resumeMs: 10, actionMs: 100 } }
      ],
      shop: { bidWindowMs: 500, orderTimeoutMs: 10_000 }
    })
    try {
      const started = federation.clock.now()
      const result = await federation.create(SPEC, 'grid')
      return { result, elapsed: federation.clock.now() - started, federation: { vms: await leftovers(federation) } }
    } finally {
      await federation.stop()
    }
  })
  t.deepEqual(timers, [], 'the actors, the sim line and the in-memory network used no host timer')
  const { result, elapsed } = value
  t.is(result.classad.state, 'running')
  t.is(result.classad.attributes.ip_address, '10.0.0.7')
  t.is(result.classad.plant, 'sim-plant-1', 'the cheaper plant of the broker\'s site won')
  t.like(result.bidding, { expected: 2, answered: 2, chosen: 'sim-plant-1' })
  t.is(result.bidding.offers[0]?.via, 'sim-broker-east')
  t.deepEqual(value.federation.vms, { vms: 1, records: 1 })
  // bidding closes when both bidders answered, well before the window; then clone, resume and two actions
  t.true(elapsed >= 40 + 10 + 2 * 100, `took ${elapsed} virtual ms`)
  t.true(elapsed < 500, `took ${elapsed} virtual ms, so bidding did not wait for the window`)
})

test('the same seed gives the same result on the virtual clock', async (t) => {
  const run = async (): Promise<unknown> => {
    const federation = await startSimFederation({ seed: 7, plants: [{}, {}, {}], shop: { bidWindowMs: 300 } })
    try {
      const result = await federation.create(SPEC, 'grid')
      return { plant: result.classad.plant, vmid: result.classad.vmid, at: federation.clock.now(), tie: result.bidding.tie }
    } finally {
      await federation.stop()
    }
  }
  t.deepEqual(await run(), await run())
})

test('a shop deadline shorter than the production leaves no VM anywhere, and the next bidder delivers', async (t) => {
  const federation = await startSimFederation({
    plants: [
      // the cheapest plant is far too slow for the shop's deadline
      { line: { actionMs: 5_000 }, cost: { networkCost: 10 } },
      { line: { actionMs: 10 } }
    ],
    shop: { bidWindowMs: 200, orderTimeoutMs: 1_000 }
  })
  t.teardown(federation.stop)
  const result = await federation.create(SPEC, 'grid')
  t.is(result.classad.plant, 'sim-plant-1')
  t.is(result.bidding.attempts[0]?.plant, 'sim-plant-0')
  t.truthy(result.bidding.attempts[0]?.error)
  // let the slow plant's abort, and the shop's cancel, play out
  await federation.clock.run(federation.clock.sleep(10_000))
  t.deepEqual(await federation.plants[0]!.line.list(), [], 'the slow plant destroyed its clone')
  t.deepEqual(await federation.plants[0]!.store.listVms(), [], 'and has no record of it')
  t.is((await federation.plants[1]!.store.listVms()).length, 1)
})

test('with every plant too slow the client gets a clear error and no VM is left', async (t) => {
  const federation = await startSimFederation({ plants: [{ line: { actionMs: 5_000 } }, { line: { actionMs: 5_000 } }], shop: { bidWindowMs: 200, orderTimeoutMs: 1_000 } })
  t.teardown(federation.stop)
  const error = await t.throwsAsync(federation.create(SPEC, 'grid'), { instanceOf: NoBidsError })
  t.regex(error.message, /every plant that bid failed/)
  await federation.clock.run(federation.clock.sleep(10_000))
  t.deepEqual(await leftovers(federation), { vms: 0, records: 0 })
})

test('a subscriber that never answers slows only the first round', async (t) => {
  const federation = await startSimFederation({ plants: [{}, {}], shop: { bidWindowMs: 1_000 } })
  t.teardown(federation.stop)
  // a third bidder that is subscribed but silent
  federation.network.join('sim-silent', { plant: {} })
  const first = federation.clock.now()
  const one = await federation.create(SPEC, 'grid')
  const firstMs = federation.clock.now() - first
  const second = federation.clock.now()
  const two = await federation.create(SPEC, 'grid')
  const secondMs = federation.clock.now() - second
  t.is(one.bidding.expected, 3)
  t.true(firstMs >= 1_000, `first round waited its window: ${firstMs} ms`)
  t.is(two.bidding.expected, 2, 'the silent peer is no longer waited for')
  t.true(secondMs < 100, `second round took ${secondMs} ms`)
})

test('with the power of d choices the shop calls d random bidders and still places every VM', async (t) => {
  const federation = await startSimFederation({ seed: 5, plants: [{}, {}, {}, {}, {}, {}], shop: { bidWindowMs: 500, choices: 2 } })
  t.teardown(federation.stop)
  const winners = new Set<string>()
  for (let i = 0; i < 12; i++) {
    const result = await federation.create(SPEC, `domain-${i}`)
    t.is(result.bidding.expected, 2)
    t.is(result.bidding.answered, 2)
    t.true(result.bidding.offers.length <= 2)
    winners.add(result.classad.plant)
  }
  t.true(winners.size >= 3, `12 creates over 6 plants with 2 choices each landed on ${winners.size} plants`)
  let vms = 0
  for (const plant of federation.plants) vms += (await federation.clock.run(plant.actor.ask(plantMessages.status()))).vms
  t.is(vms, 12, 'every VM is on some plant')
})
