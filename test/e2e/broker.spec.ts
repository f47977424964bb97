import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { waitForBidders } from '../../src/daemon/embedded.js'
import { VmplantClient } from '../../src/cli/client.js'
import { nodeSet } from '../helpers/nodes.js'
import { SMALL_SPEC } from '../helpers/federation.js'

test('a site broker gathers its plants\' bids and forwards only the best, and the shop orders that plant directly', async (t) => {
  const { start } = await nodeSet(t)
  let client: VmplantClient | undefined
  t.teardown(async () => { await client?.stop() })
  const shop = await start('shop', { roles: ['shop'], shop: { bidWindowMs: 5000 } })
  const broker = await start('broker', { roles: ['broker'], site: 'east', bootstrap: [shop.multiaddrs[0]] })
  // the site's plants know only their broker
  const east = [
    await start('east-0', { roles: ['plant'], site: 'east', bootstrap: [broker.multiaddrs[0]], plant: { cost: { computeCost: 4, networkCost: 30 } } }),
    await start('east-1', { roles: ['plant'], site: 'east', bootstrap: [broker.multiaddrs[0]], plant: { cost: { computeCost: 4, networkCost: 40 } } })
  ]
  const direct = await start('direct', { roles: ['plant'], bootstrap: [shop.multiaddrs[0]] })
  await waitForBidders(shop, [broker.peerId, direct.peerId], AbortSignal.timeout(20_000))
  while (broker.bidders('east').length < 2) await new Promise((resolve) => setTimeout(resolve, 50))

  client = new VmplantClient({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519') })
  await client.start()
  const result = await client.create(SMALL_SPEC, 'grid')
  t.is(result.bidding.expected, 2, 'the shop waits for the broker and the direct plant')
  t.is(result.bidding.offers.length, 2)
  const fromBroker = result.bidding.offers.find((o) => o.via === broker.peerId)
  t.is(fromBroker?.plant, east[0]!.peerId, 'the broker forwards its cheapest plant')
  t.is(fromBroker?.cost, 30)
  t.regex(fromBroker?.reason ?? '', /best of 2 at site east/)
  t.is(result.classad.plant, east[0]!.peerId)
  t.is((await client.query(result.classad.vmid)).state, 'running')
  await client.destroy(result.classad.vmid)
})
