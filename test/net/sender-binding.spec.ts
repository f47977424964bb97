import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Message } from '@libp2p/gossipsub'
import { createNode, type VmplantLibp2p } from '../../src/net/node.js'
import { BID_TOPIC, PROTOCOLS } from '../../src/net/protocols.js'
import { ANSWERS_PROTOCOL } from '../../src/net/protocols/bids/index.js'
import { signCreate, signDomainCredential } from '../../src/net/auth.js'
import { bidCallSchema, type BidCall } from '../../src/interface/index.js'
import { federationWithClient, SMALL_SPEC, type Fixture } from '../helpers/federation.js'

const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))

let fixture: Fixture
let rogue: VmplantLibp2p
const calls: BidCall[] = []
test.before(async () => {
  fixture = await federationWithClient({ plants: 2, shop: { bidWindowMs: 1500 } })
  rogue = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  await rogue.start()
  await rogue.dial(multiaddr(fixture.federation.shopAddr))
  for (const plant of fixture.federation.plants) await rogue.dial(multiaddr(plant.multiaddrs[0] as string))
  rogue.services.pubsub.subscribe(BID_TOPIC)
  rogue.services.pubsub.addEventListener('message', (event: CustomEvent<Message>) => {
    if (event.detail.topic !== BID_TOPIC) return
    const parsed = bidCallSchema.safeParse(JSON.parse(new TextDecoder().decode(event.detail.data)))
    if (parsed.success) calls.push(parsed.data)
  })
  // the rogue is a subscriber now, and never answers: it must not slow the rounds after the first
  await fixture.federation.ready()
  const deadline = Date.now() + 10_000
  while (!fixture.federation.shop.bidders().includes(rogue.peerId.toString())) {
    if (Date.now() > deadline) throw new Error('the shop never saw the rogue subscribe')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
})
test.after.always(async () => {
  await rogue?.stop()
  await fixture?.stop()
})

/** one length-prefixed request on a new stream from the rogue, and the decoded answer */
async function rogueRequest (addr: string, protocol: string, body: unknown): Promise<any> {
  const stream = await rogue.dialProtocol(multiaddr(addr), protocol)
  const lp = lpStream(stream)
  await lp.write(json(body))
  const answer = await lp.read({ signal: AbortSignal.timeout(10_000) })
  await stream.close()
  return JSON.parse(new TextDecoder().decode(answer.subarray()))
}

async function waitFor<T> (find: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const found = find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test.serial('a silent subscriber slows only the first round, and a forged offer on the bid stream is dropped while the real offer wins', async (t) => {
  const { federation, client } = fixture
  const [victim] = federation.plants
  const first = await client.create(SMALL_SPEC, 'grid')
  t.is(first.bidding.expected, 3, 'the first round waited for the silent rogue too')
  t.is(first.bidding.answered, 2)

  const before = calls.length
  const creating = client.create(SMALL_SPEC, 'grid')
  const call = await waitFor(() => calls[before], 'the second call for bids')
  // an offer in the victim plant's name, cheaper than anything, sent by the rogue on the bid stream
  const forged = await rogueRequest(federation.shopAddr, PROTOCOLS.bid, { type: 'bid.offer', requestId: call.requestId, plant: { peer: victim!.peerId, addrs: [] }, cost: 0, reason: 'forged' })
  t.like(forged, { ok: true }, 'the stream gives no hint to the forger')
  const second = await creating
  t.is(second.bidding.expected, 2, 'the silent rogue is no longer waited for')
  t.is(second.bidding.answered, 2)
  t.false(second.bidding.offers.some((o) => o.reason === 'forged'))
  t.true(second.bidding.offers.every((o) => federation.plants.some((p) => p.peerId === o.plant)))
  t.true(second.classad.timings.biddingMs < 1500, 'the round closed once the live bidders answered, not at its window')
  t.true(federation.shop.dropped.some((d) => d.from === rogue.peerId.toString() && /names .* but comes from/.test(d.reason)), 'the shop logged the drop')
  await client.destroy(first.classad.vmid)
  await client.destroy(second.classad.vmid)
})

test.serial('a call whose replyTo is not its publisher is dropped by the plants', async (t) => {
  const { federation } = fixture
  const shopRef = { peer: federation.shop.peerId, addrs: federation.shop.multiaddrs }
  const call: BidCall = { type: 'bid.call', requestId: 'r-forgedcall000', replyTo: shopRef, hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' }, domain: 'grid', actionCount: 0, windowMs: 1000 }
  await rogue.services.pubsub.publish(BID_TOPIC, json(call))
  for (const plant of federation.plants) {
    const drop = await waitFor(() => plant.dropped.find((d) => d.reason.includes('r-forgedcall000')), 'the plant to drop the forged call')
    t.regex(drop.reason, /asks for answers to .* but was published by/)
    t.is(drop.from, rogue.peerId.toString())
  }
})

test.serial('an order from a peer that did not call for bids, or without the client\'s signature, is refused and makes no VM', async (t) => {
  const { federation, client } = fixture
  const plant = federation.plants[0]!
  const clientKey = await generateKeyPair('Ed25519')
  const owner = (await import('@libp2p/peer-id')).peerIdFromPrivateKey(clientKey).toString()
  const credential = await signDomainCredential(await generateKeyPair('Ed25519'), { domain: 'grid', client: owner, issuedAt: Date.now(), expiresAt: Date.now() + 60_000 })
  const order = {
    type: 'order.produce', requestId: 'r-notcalled0000', spec: SMALL_SPEC, domain: 'grid', owner,
    auth: await signCreate(clientKey, SMALL_SPEC, 'grid', Date.now(), credential.key), credential, biddingMs: 0, cost: 0, budgetMs: 60_000
  }
  const uncalled = await rogueRequest(plant.multiaddrs[0] as string, PROTOCOLS.order, order)
  t.like(uncalled, { ok: false, error: { code: 'OrderRefusedError' } })
  t.regex(uncalled.error.message, /did not call plant .* for bids/)

  const stranger = await generateKeyPair('Ed25519')
  const unsigned = await rogueRequest(plant.multiaddrs[0] as string, PROTOCOLS.order, { ...order, auth: { ...(await signCreate(stranger, SMALL_SPEC, 'grid', Date.now(), credential.key)), owner } })
  t.like(unsigned, { ok: false, error: { code: 'AuthError' } })

  const tampered = await rogueRequest(plant.multiaddrs[0] as string, PROTOCOLS.order, { ...order, spec: { ...SMALL_SPEC, hardware: { memoryMB: 2048, os: 'linux' } } })
  t.like(tampered, { ok: false, error: { code: 'AuthError' } }, 'a signature covers the spec it was made for')

  t.is((await plant.plantStatus()).vms, 0)
  t.deepEqual((await client.list()).vms, [])
})

test.serial('a client request signed by one client but sent by another peer is refused', async (t) => {
  const { federation, client } = fixture
  const mine = await client.create(SMALL_SPEC, 'grid')
  const { signAuth } = await import('../../src/net/auth.js')
  const stranger = await generateKeyPair('Ed25519')
  const auth = await signAuth(stranger, 'destroy', mine.classad.vmid, Date.now())
  const answer = await rogueRequest(federation.shopAddr, PROTOCOLS.client, { type: 'destroy', vmid: mine.classad.vmid, auth })
  t.like(answer, { ok: false, error: { code: 'AuthError' } })
  t.regex(answer.error.message, /comes from/)
  t.is((await client.query(mine.classad.vmid)).state, 'running')
  await client.destroy(mine.classad.vmid)
})

test.serial('a call sent on the call stream in another peer\'s name is dropped by the plant', async (t) => {
  const { federation } = fixture
  const plant = federation.plants[1]!
  const shopRef = { peer: federation.shop.peerId, addrs: federation.shop.multiaddrs }
  const call: BidCall = { type: 'bid.call', requestId: 'r-forgedstream0', replyTo: shopRef, hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' }, domain: 'grid', actionCount: 0, windowMs: 1000 }
  t.like(await rogueRequest(plant.multiaddrs[0] as string, PROTOCOLS.call, call), { ok: true })
  const drop = await waitFor(() => plant.dropped.find((d) => d.reason.includes('r-forgedstream0')), 'the plant to drop the forged call')
  t.regex(drop.reason, /asks for answers to .* but comes from/)
})

/** frames written by the rogue on one long-lived stream of `protocol`, then closed */
async function rogueFrames (addr: string, protocol: string, frames: unknown[]): Promise<void> {
  const stream = await rogue.dialProtocol(multiaddr(addr), protocol)
  const lp = lpStream(stream)
  for (const frame of frames) await lp.write(json(frame))
  await stream.close()
}

test.serial('an offer on the answers stream in a plant\'s name is dropped by the shop, and the plant\'s own offer counts', async (t) => {
  const { federation, client } = fixture
  const [victim] = federation.plants
  const before = calls.length
  const creating = client.create(SMALL_SPEC, 'grid')
  const call = await waitFor(() => calls[before], 'a call for bids')
  await rogueFrames(federation.shopAddr, ANSWERS_PROTOCOL, [{ type: 'bid.offer', requestId: call.requestId, plant: { peer: victim!.peerId, addrs: [] }, cost: 0, reason: 'forged on the answers stream' }])
  const made = await creating
  t.false(made.bidding.offers.some((o) => o.reason === 'forged on the answers stream'))
  t.is(made.bidding.answered, 2)
  t.true(federation.shop.dropped.some((d) => d.from === rogue.peerId.toString() && d.what === `answer on ${ANSWERS_PROTOCOL}` && d.reason.includes(call.requestId)), 'the shop logged the drop')
  await client.destroy(made.classad.vmid)
})
