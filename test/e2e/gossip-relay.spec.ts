import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { VmplantClient } from '../../src/cli/client.js'
import { waitForBidders } from '../../src/daemon/embedded.js'
import { BID_TOPIC } from '../../src/net/protocols.js'
import type { BidCall } from '../../src/interface/index.js'
import { nodeSet } from '../helpers/nodes.js'
import { eventually } from '../helpers/processes.js'

test('a plant connected to the shop only through another plant still hears its calls for bids: they gossip', async (t) => {
  const nodes = await nodeSet(t)
  const shop = await nodes.start('shop', { roles: ['shop'], shop: { bidWindowMs: 2000 } })
  const near = await nodes.start('near', { roles: ['plant'], bootstrap: [shop.multiaddrs[0]] })
  // the far plant knows only the near one
  const far = await nodes.start('far', { roles: ['plant'], bootstrap: [near.multiaddrs[0]] })
  const heard: BidCall[] = []
  far.libp2p!.services.pubsub.addEventListener('message', (event) => {
    if (event.detail.topic === BID_TOPIC) heard.push(JSON.parse(new TextDecoder().decode(event.detail.data)) as BidCall)
  })
  await waitForBidders(shop, [near.peerId], AbortSignal.timeout(20_000))
  await eventually(async () => { if (!near.libp2p!.services.pubsub.getSubscribers(BID_TOPIC).some((p) => p.toString() === far.peerId)) throw new Error('the near plant does not see the far one subscribed yet') }, 20_000, 50)
  t.deepEqual(far.libp2p!.getConnections(peerIdFromString(shop.peerId)), [], 'the far plant has no connection to the shop')

  const client = new VmplantClient({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519') })
  await client.start()
  t.teardown(async () => { await client.stop() })
  const result = await client.create({ hardware: { memoryMB: 64, os: 'linux' }, actions: [] }, 'grid')
  // relayed by the near plant (gossip to peers it is not meshed with: IHAVE, then IWANT), within a few heartbeats
  await eventually(async () => { if (!heard.some((c) => c.requestId === result.bidding.requestId)) throw new Error('the far plant has not heard the call') }, 20_000, 100)
  t.is(heard.find((c) => c.requestId === result.bidding.requestId)?.replyTo.peer, shop.peerId)
  await client.destroy(result.classad.vmid)
})
