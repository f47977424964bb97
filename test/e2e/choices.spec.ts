import test from 'ava'
import { federationWithClient, SMALL_SPEC } from '../helpers/federation.js'
import { PROTOCOLS } from '../../src/net/protocols.js'

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

test('a chosen bidder the call cannot reach is a decline at once: the round does not wait its window for it', async (t) => {
  // a long window: a round that waited for the unreachable bidder would take a minute
  const windowMs = 60_000
  const fixture = await federationWithClient({ plants: 3, shop: { choices: 2, bidWindowMs: windowMs } })
  t.teardown(fixture.stop)
  // still subscribed to the calls, but no longer takes them on a stream
  const deaf = fixture.federation.plants[0]!
  await deaf.libp2p!.unhandle(PROTOCOLS.call)
  const deafId = deaf.libp2p!.peerId.toString()
  // two of three are chosen at random: within a few creates the deaf plant is one of them
  for (let i = 0; i < 20; i++) {
    const result = await fixture.client.create(SMALL_SPEC, `deaf-${i}`)
    await fixture.client.destroy(result.classad.vmid)
    t.not(result.classad.plant, deafId)
    const declined = result.bidding.declines.find((d) => d.bidder === deafId)
    if (declined === undefined) continue
    t.regex(declined.reason, /^unreachable: the call for bids could not be sent/)
    t.like(result.bidding, { expected: 1, answered: 1 })
    t.true(result.classad.timings.biddingMs < windowMs / 2, `the round took ${result.classad.timings.biddingMs} ms`)
    return
  }
  t.fail('the deaf plant was never chosen in 20 creates')
})
