import test from 'ava'
import { LinkSpeeds } from '../../src/images/link-speed.js'
import { federationWithClient } from '../helpers/federation.js'

const spec = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'net', run: 'echo ip=10.0.0.1' }] }

test('with imageFetch set, a plant without the image prices fetching a peer\'s by its bytes over the link speed, instead of noImageCost', async (t) => {
  // 1 byte a second: the fetch costs as much as the image has bytes, more than a local clone
  const fixture = await federationWithClient({ plants: 2, plant: { cost: { model: 'paper', computeCost: 4, networkCost: 50, maxNetworks: 4, maxVms: 32, noImageCost: 100, actionCost: 0 }, imageFetch: { bytesPerSecond: 1, costPerSecond: 1, lookupMs: 1000 } } })
  t.teardown(fixture.stop)
  const first = await fixture.client.create(spec, 'alpha')
  t.true(first.bidding.offers.every((o) => o.cost === 150 && /no golden image here/.test(o.reason)), 'no plant holds an image yet: noImageCost')
  const winner = fixture.federation.plants.find((p) => p.peerId === first.classad.plant)
  await winner?.images?.provide({ signal: AbortSignal.timeout(20_000) })

  const second = await fixture.client.create(spec, 'beta')
  t.is(second.classad.plant, first.classad.plant, 'the local clone is cheaper than the fetch')
  const other = second.bidding.offers.find((o) => o.plant !== first.classad.plant)
  const fetched = new RegExp(`fetches golden image ${first.classad.goldenImage.slice(-8)} from ${first.classad.plant.slice(-8)} \\(([0-9.]+) MB at 0\\.0 MB/s configured\\): ([0-9]+), saves 0, 1 to run`).exec(other?.reason ?? '')
  t.truthy(fetched, other?.reason)
  const cost = Number(fetched?.[2])
  t.true(cost > 4, 'a byte a second')
  t.is(other?.cost, 50 + cost, 'a new network and the fetch; noImageCost is not charged')
})

test('link speeds follow the newest transfers of a peer, fall back to any peer\'s, and ignore small transfers', (t) => {
  const speeds = new LinkSpeeds()
  t.is(speeds.of('a'), undefined)
  speeds.note('a', 1000, 1)
  t.is(speeds.of('a'), undefined, 'a kilobyte says nothing of the link')
  speeds.note('a', 10_000_000, 1000)
  t.is(speeds.of('a'), 10_000_000)
  speeds.note('a', 30_000_000, 1000)
  t.is(speeds.of('a'), 20_000_000)
  t.is(speeds.of('b'), 20_000_000, 'a peer never measured gets the overall figure')
})
