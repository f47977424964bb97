import '../../src/polyfill.js'
import test from 'ava'
import { federationWithClient, SMALL_SPEC } from '../helpers/federation.js'

test('a shop with choices: 1 calls one random plant on a stream, and that plant delivers', async (t) => {
  const fixture = await federationWithClient({ plants: 3, shop: { choices: 1 } })
  t.teardown(fixture.stop)
  const winners = new Set<string>()
  for (let i = 0; i < 10; i++) {
    const result = await fixture.client.create(SMALL_SPEC, `domain-${i}`)
    t.like(result.bidding, { expected: 1, answered: 1 })
    t.is(result.bidding.offers.length, 1)
    t.is(result.bidding.offers[0]?.plant, result.classad.plant)
    winners.add(result.classad.plant)
    await fixture.client.destroy(result.classad.vmid)
  }
  t.true(winners.size >= 2, `ten creates with one choice each landed on ${winners.size} plant(s)`)
})
