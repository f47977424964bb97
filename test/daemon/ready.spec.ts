import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient } from '../../src/cli/client.js'
import { nodeSet } from '../helpers/nodes.js'
import { SMALL_SPEC } from '../helpers/federation.js'

test('a create that reaches a shop before any plant has joined waits for the first bidders instead of failing', async (t) => {
  const nodes = await nodeSet(t)
  const shop = await nodes.start('shop', { roles: ['shop'], shop: { bidWindowMs: 5000 } })
  const client = new VmplantClient({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519') })
  t.teardown(async () => { await client.stop() })
  await client.start()
  const creating = client.create(SMALL_SPEC, 'grid')
  // the plants join only now, as they do right after every node of a fresh federation printed `ready`
  await Promise.all(['a', 'b'].map(async (name) => await nodes.start(`plant-${name}`, { roles: ['plant'], bootstrap: [shop.multiaddrs[0]], redialMs: 200 })))
  const result = await creating
  t.is(result.classad.state, 'running')
  t.true(result.bidding.offers.length >= 1)
})
