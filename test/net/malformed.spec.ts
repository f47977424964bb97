import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createNode, type VmplantLibp2p } from '../../src/net/node.js'
import { BID_TOPIC, OFFER_TOPIC, PROTOCOLS } from '../../src/net/protocols.js'
import { signAuth } from '../../src/net/auth.js'
import { federationWithClient, SMALL_SPEC, type Fixture } from '../helpers/federation.js'

let fixture: Fixture
let rogue: VmplantLibp2p
test.before(async () => {
  fixture = await federationWithClient({ plants: 2 })
  rogue = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  await rogue.start()
  await rogue.dial(multiaddr(fixture.federation.shopAddr))
  for (const plant of fixture.federation.plants) await rogue.dial(multiaddr(plant.multiaddrs[0] as string))
})
test.after.always(async () => {
  await rogue?.stop()
  await fixture?.stop()
})

/** sends raw bytes as one length-prefixed frame and returns the decoded answer */
async function raw (addr: string, protocol: string, body: Uint8Array, maxDataLength = 8 * 1024 * 1024): Promise<any> {
  const stream = await rogue.dialProtocol(multiaddr(addr), protocol)
  const lp = lpStream(stream, { maxDataLength })
  await lp.write(body)
  const answer = await lp.read({ signal: AbortSignal.timeout(10_000) })
  await stream.close()
  return JSON.parse(new TextDecoder().decode(answer.subarray()))
}

const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))
const shop = (): string => fixture.federation.shopAddr
const plant = (): string => fixture.federation.plants[0]!.multiaddrs[0] as string

test('every protocol answers garbage with an error that names the problem', async (t) => {
  for (const [addr, protocol] of [[shop(), PROTOCOLS.client], [shop(), PROTOCOLS.bid], [plant(), PROTOCOLS.order], [plant(), PROTOCOLS.vm]] as const) {
    const notJson = await raw(addr, protocol, new TextEncoder().encode('{not json'))
    t.like(notJson, { ok: false, error: { code: 'MalformedMessageError' } }, protocol)
    t.regex(notJson.error.message, /not valid UTF-8 JSON/)
    const wrongShape = await raw(addr, protocol, json({ type: 'nonsense', x: 1 }))
    t.like(wrongShape, { ok: false, error: { code: 'MalformedMessageError' } }, protocol)
    t.regex(wrongShape.error.message, /malformed/)
  }
})

test('an oversized message is refused before it is parsed', async (t) => {
  const big = json({ type: 'create', domain: 'grid', spec: { hardware: SMALL_SPEC.hardware, actions: [{ id: 'a', run: 'x'.repeat(2 * 1024 * 1024) }] } })
  const answer = await raw(shop(), PROTOCOLS.client, big)
  t.like(answer, { ok: false, error: { code: 'MalformedMessageError' } })
  t.regex(answer.error.message, /over the limit of 1048576 bytes/)
})

test('unknown VMIDs are "not found"; a forged signature, and a client without the domain\'s credential, are refused', async (t) => {
  const mine = await fixture.client.create(SMALL_SPEC, 'grid')
  const plantId = fixture.federation.plants[0]!.peerId
  const unknown = `vm-0123456789abcdef.${plantId}`
  const error = await t.throwsAsync(fixture.client.query(unknown))
  t.regex(error.message, /not found/)
  t.is((error as { code?: string }).code, 'VmNotFoundError')

  const stranger = await generateKeyPair('Ed25519')
  const forged = { ...(await signAuth(stranger, 'destroy', mine.classad.vmid, Date.now())), owner: fixture.client.peerId }
  const holder = fixture.federation.plants.find((p) => p.peerId === mine.classad.plant)!.multiaddrs[0] as string
  const answer = await raw(holder, PROTOCOLS.vm, json({ type: 'vm.destroy', vmid: mine.classad.vmid, auth: forged }))
  t.like(answer, { ok: false, error: { code: 'AuthError' } })
  const theirs = await raw(holder, PROTOCOLS.vm, json({ type: 'vm.destroy', vmid: mine.classad.vmid, auth: await signAuth(stranger, 'destroy', mine.classad.vmid, Date.now()) }))
  t.like(theirs, { ok: false, error: { code: 'DomainCredentialError' } }, 'another client cannot destroy the VM')
  t.is((await fixture.client.query(mine.classad.vmid)).state, 'running')
  await fixture.client.destroy(mine.classad.vmid)
})

test('garbage and forged offers on the gossip topics are dropped and the nodes carry on', async (t) => {
  const pubsub = rogue.services.pubsub
  const deadline = Date.now() + 10_000
  while (pubsub.getSubscribers(OFFER_TOPIC).length === 0 || pubsub.getSubscribers(BID_TOPIC).length < 2) {
    if (Date.now() > deadline) throw new Error('rogue never saw the topics')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await pubsub.publish(BID_TOPIC, new TextEncoder().encode('garbage'))
  await pubsub.publish(BID_TOPIC, json({ type: 'bid.call', requestId: 'x' }))
  await pubsub.publish(OFFER_TOPIC, new Uint8Array(64 * 1024))
  // an offer in another plant's name: signed by the rogue, so the shop drops it
  const victim = fixture.federation.plants[1]!
  const creating = fixture.client.create(SMALL_SPEC, 'grid')
  await pubsub.publish(OFFER_TOPIC, json({ type: 'bid.offer', requestId: 'r-000000000000000000000000', plant: { peer: victim.peerId, addrs: [] }, cost: 0, reason: 'forged' }))
  const result = await creating
  t.is(result.bidding.offers.length, 2)
  t.false(result.bidding.offers.some((o) => o.reason === 'forged'))
  await fixture.client.destroy(result.classad.vmid)
})
