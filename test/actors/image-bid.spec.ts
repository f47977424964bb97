import test from 'ava'
import { federationWithClient } from '../helpers/federation.js'

const spec = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'net', run: 'echo ip=10.0.0.1' }] }

test('a plant\'s bid reflects whether its warehouse holds a golden image for the request', async (t) => {
  const fixture = await federationWithClient({ plants: 2, plant: { cost: { model: 'paper', computeCost: 4, networkCost: 50, maxNetworks: 4, maxVms: 32, noImageCost: 100, actionCost: 0 } } })
  t.teardown(fixture.stop)
  const first = await fixture.client.create(spec, 'alpha')
  t.true(first.bidding.offers.every((o) => o.cost === 150 && /no golden image here/.test(o.reason)), 'neither plant has an image yet')
  // a new domain costs 50 on both plants; only the first winner has built a golden image since
  const second = await fixture.client.create(spec, 'beta')
  t.is(second.classad.plant, first.classad.plant)
  const costs = Object.fromEntries(second.bidding.offers.map((o) => [o.plant, o]))
  t.is(costs[first.classad.plant]?.cost, 54)
  t.regex(costs[first.classad.plant]?.reason ?? '', /golden image saves 0, 1 to run/)
  const other = second.bidding.offers.find((o) => o.plant !== first.classad.plant)
  t.is(other?.cost, 150)
})
