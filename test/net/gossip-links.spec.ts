/**
 * GossipLinks reads which peers a published message reaches from libp2p's public state (the
 * connections' streams). These tests hold that reading against what gossipsub itself returns,
 * `publish()`'s recipients, on two real nodes: a gossipsub that sends on other streams than the
 * ones read here, or names its protocols differently, fails them.
 */
import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { logger } from '@libp2p/logger'
import { createNode, type VmplantLibp2p } from '../../src/net/node.js'
import { GossipLinks, gossipPeersWithoutStream } from '../../src/net/gossip-links.js'
import { eventually } from '../helpers/processes.js'

const TOPIC = 'vmplant-test/gossip-links'

let caller: VmplantLibp2p
let bidder: VmplantLibp2p
let links: GossipLinks
let reachableCalls = 0

test.before(async () => {
  caller = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  bidder = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  links = new GossipLinks(caller, { onReachable: () => { reachableCalls++ }, log: logger('vmplant:test:gossip-links') })
  await caller.start()
  await bidder.start()
  links.start()
  bidder.services.pubsub.subscribe(TOPIC)
  await caller.dial(bidder.getMultiaddrs())
})
test.after.always(async () => {
  links?.stop()
  await caller?.stop()
  await bidder?.stop()
})

async function recipients (): Promise<string[]> {
  const result = await caller.services.pubsub.publish(TOPIC, new TextEncoder().encode('call'))
  return result.recipients.map((p) => p.toString())
}

function callerStreamToBidder (): ReturnType<VmplantLibp2p['getConnections']>[number]['streams'][number] | undefined {
  const protocols = new Set(caller.services.pubsub.protocols)
  return caller.getConnections(bidder.peerId).flatMap((c) => c.streams)
    .find((s) => s.direction === 'outbound' && protocols.has(s.protocol) && s.status === 'open')
}

test.serial('a reachable subscriber is one publish() sends to', async (t) => {
  const peer = bidder.peerId.toString()
  await eventually(async () => {
    if (!caller.services.pubsub.getSubscribers(TOPIC).some((p) => p.equals(bidder.peerId))) throw new Error('no subscription yet')
    if (!links.reachable(peer)) throw new Error('not reachable yet')
  }, 10_000, 10)
  t.deepEqual(links.reachableOf([peer, 'someone-else']), [peer])
  t.deepEqual(await recipients(), [peer])
  t.is(gossipPeersWithoutStream(caller), 0)
})

test.serial('a subscriber whose stream broke is unreachable, publish() skips it, and it gets its stream back', async (t) => {
  const peer = bidder.peerId.toString()
  const stream = callerStreamToBidder()
  if (stream === undefined) { t.fail('the caller has no gossip stream to the bidder'); return }
  reachableCalls = 0
  stream.abort(new Error('broken by the test'))
  t.false(links.reachable(peer))
  t.deepEqual(await recipients(), [])
  t.is(gossipPeersWithoutStream(caller), 1)

  // gossipsub keeps the peer and opens no stream of its own; GossipLinks has it identified again
  await eventually(async () => { if (!links.reachable(peer)) throw new Error('not reachable again') }, 30_000, 100)
  t.deepEqual(await recipients(), [peer])
  t.is(gossipPeersWithoutStream(caller), 0)
  await eventually(async () => { if (reachableCalls === 0) throw new Error('onReachable not called') }, 10_000, 50)
  t.true(reachableCalls > 0)
})
