import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Stream } from '@libp2p/interface'
import { VmplantClient } from '../../src/cli/client.js'
import { waitForBidders } from '../../src/daemon/embedded.js'
import type { VmplantNode } from '../../src/daemon/vmplant-node.js'
import { nodeSet } from '../helpers/nodes.js'
import { eventually } from '../helpers/processes.js'
import { sample, scrape } from '../helpers/metrics.js'

const spec = { hardware: { memoryMB: 64, os: 'linux' }, actions: [] }

/** `from`'s gossipsub stream to `to`, if open */
function gossipStream (from: VmplantNode, to: VmplantNode): Stream | undefined {
  return from.libp2p!.getConnections(peerIdFromString(to.peerId))
    .flatMap((c) => c.streams)
    .find((s) => s.protocol?.startsWith('/meshsub/') === true && s.direction === 'outbound' && s.status === 'open')
}

async function federation (t: Parameters<typeof nodeSet>[0]): Promise<{ shop: VmplantNode, plant: VmplantNode, client: VmplantClient }> {
  const nodes = await nodeSet(t)
  // a short window: a round that waited for a bidder its call never reached ends without the bidder's offer
  const shop = await nodes.start('shop', { roles: ['shop'], shop: { bidWindowMs: 3000 }, metrics: { listen: '127.0.0.1:0' } })
  const plant = await nodes.start('plant', { roles: ['plant'], bootstrap: [shop.multiaddrs[0]] })
  await waitForBidders(shop, [plant.peerId], AbortSignal.timeout(20_000))
  const client = new VmplantClient({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519') })
  await client.start()
  t.teardown(async () => { await client.stop() })
  return { shop, plant, client }
}

async function plantBids (t: Parameters<typeof nodeSet>[0], client: VmplantClient, plant: VmplantNode): Promise<void> {
  const result = await client.create(spec, 'grid')
  t.is(result.classad.plant, plant.peerId)
  t.is(result.bidding.offers.length, 1)
  await client.destroy(result.classad.vmid)
}

test('a bidder the shop has no gossip stream to is not waited for, and gets its stream back while the connection stays', async (t) => {
  const { shop, plant, client } = await federation(t)
  await plantBids(t, client, plant)
  const connections = shop.libp2p!.getConnections(peerIdFromString(plant.peerId))

  // gossipsub never opens a stream again that broke while its connection stays
  gossipStream(shop, plant)?.abort(new Error('broken by the test'))
  await eventually(async () => { if (shop.bidders().includes(plant.peerId)) throw new Error('the shop still counts the plant as a bidder') }, 5000, 10)
  t.is(sample(await scrape(shop), 'vmplant_gossip_peers_without_stream'), 1)

  await eventually(async () => { if (!shop.bidders().includes(plant.peerId)) throw new Error('the plant is not a bidder again') }, 20_000, 100)
  t.truthy(gossipStream(shop, plant))
  t.is(sample(await scrape(shop), 'vmplant_gossip_peers_without_stream'), 0)
  t.deepEqual(shop.libp2p!.getConnections(peerIdFromString(plant.peerId)).map((c) => c.id), connections.map((c) => c.id), 'on the same connection')
  await plantBids(t, client, plant)
})

test('a plant whose own gossip stream to the shop broke opens it again, and the shop hears it bid', async (t) => {
  const { shop, plant, client } = await federation(t)
  gossipStream(plant, shop)?.abort(new Error('broken by the test'))
  await eventually(async () => { if (gossipStream(plant, shop) === undefined) throw new Error('the plant has no gossip stream to the shop') }, 20_000, 100)
  await eventually(async () => { if (!shop.bidders().includes(plant.peerId)) throw new Error('the shop does not count the plant as a bidder') }, 20_000, 100)
  await plantBids(t, client, plant)
})
