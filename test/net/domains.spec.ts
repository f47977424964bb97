import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import { z } from 'zod'
import { createNode, type VmplantLibp2p } from '../../src/net/node.js'
import { PROTOCOLS } from '../../src/net/protocols.js'
import { call } from '../../src/net/rpc.js'
import { clientProtocol, type ShopClient } from '../../src/net/protocols/client/index.js'
import { signAuth, signCreate, signDomainCredential, verifyDomainCredential, DomainCredentialError } from '../../src/net/auth.js'
import { VmplantClient } from '../../src/cli/client.js'
import type { DomainCredential } from '../../src/interface/index.js'
import { startEmbeddedFederation, type EmbeddedFederation } from '../../src/daemon/embedded.js'
import { SMALL_SPEC } from '../helpers/federation.js'

/** A client talking to the shop with its own key and exactly the credentials a test gives it. */
interface Peer { key: PrivateKey, id: string, node: VmplantLibp2p, shop: ShopClient }

let federation: EmbeddedFederation
const peers: Peer[] = []
/** domain "lab" of client A: its key, and the credential it grants A */
let labKey: PrivateKey
let alice: Peer
let bob: Peer
let aliceLab: DomainCredential

async function peer (): Promise<Peer> {
  const key = await generateKeyPair('Ed25519')
  const node = await createNode({ privateKey: key, listen: [] })
  await node.start()
  const p = { key, id: peerIdFromPrivateKey(key).toString(), node, shop: clientProtocol({ libp2p: node, clock: { now: Date.now } }).shop(multiaddr(federation.shopAddr), key) }
  peers.push(p)
  return p
}

async function grant (domainKey: PrivateKey, domain: string, client: string, validMs = 3_600_000, issuedAt = Date.now()): Promise<DomainCredential> {
  return await signDomainCredential(domainKey, { domain, client, issuedAt, expiresAt: issuedAt + validMs })
}

/** VMs recorded on the one plant */
async function recorded (): Promise<number> {
  return (await federation.plants[0]!.plantStatus()).vms
}

test.before(async () => {
  // one plant, so that two domains' VMs meet on it
  federation = await startEmbeddedFederation({ plants: 1, shop: { bidWindowMs: 1000 } })
  await federation.ready()
  alice = await peer()
  bob = await peer()
  labKey = await generateKeyPair('Ed25519')
  aliceLab = await grant(labKey, 'lab', alice.id)
})
test.after.always(async () => {
  for (const p of peers) await p.node.stop()
  await federation?.stop()
})

test('a credential is checked for its signature, its client, its expiry and its domain', async (t) => {
  const now = Date.now()
  const ok = await verifyDomainCredential(aliceLab, { peer: alice.id, now, domain: 'lab' })
  t.deepEqual(ok, { name: 'lab', key: peerIdFromPrivateKey(labKey).toString() })
  const problem = async (credential: DomainCredential | undefined, check = { peer: alice.id, now, domain: 'lab' }): Promise<string> =>
    (await t.throwsAsync(verifyDomainCredential(credential, check), { instanceOf: DomainCredentialError }) as DomainCredentialError).problem
  t.is(await problem(undefined), 'missing')
  t.is(await problem(aliceLab, { peer: bob.id, now, domain: 'lab' }), 'other-client')
  t.is(await problem(aliceLab, { peer: alice.id, now: aliceLab.expiresAt, domain: 'lab' }), 'expired')
  t.is(await problem(aliceLab, { peer: alice.id, now, domain: 'lab2' }), 'domain-mismatch')
  t.is(await problem({ ...aliceLab, client: bob.id }), 'bad-signature', 'the signature covers the client')
  t.is(await problem({ ...aliceLab, expiresAt: aliceLab.expiresAt + 1 }), 'bad-signature', 'the signature covers the expiry')
  // signed by another key that claims to be the lab's
  const forged = { ...(await grant(await generateKeyPair('Ed25519'), 'lab', alice.id)), key: aliceLab.key }
  t.is(await problem(forged), 'bad-signature')
})

test.serial('without the domain\'s valid credential a client cannot create in it, and no VM is recorded', async (t) => {
  const before = await recorded()
  const refused = async (p: Peer, credential: DomainCredential | undefined, problem: string): Promise<void> => {
    const error = await t.throwsAsync(p.shop.create(SMALL_SPEC, 'lab', credential, { signal: AbortSignal.timeout(30_000) }))
    t.is((error as { code?: string }).code, 'DomainCredentialError', error.message)
    t.regex(error.message, new RegExp(`\\(${problem}\\)`))
  }
  await refused(bob, undefined, 'missing')
  await refused(bob, aliceLab, 'other-client')
  await refused(alice, await grant(labKey, 'lab', alice.id, 1000, Date.now() - 60_000), 'expired')
  await refused(alice, { ...aliceLab, expiresAt: aliceLab.expiresAt + 86_400_000 }, 'bad-signature')
  await refused(alice, await grant(labKey, 'lab2', alice.id), 'domain-mismatch')
  t.is(await recorded(), before)
})

test.serial('the plant is the authority: an order whose credential does not verify is refused at its edge and makes no VM', async (t) => {
  const plant = federation.plants[0]!
  const rogue = await peer()
  const before = await recorded()
  const order = async (credential: DomainCredential | undefined, owner = alice): Promise<string> => {
    const body = {
      type: 'order.produce', requestId: `r-domain${Math.random().toString(16).slice(2, 10)}`, spec: SMALL_SPEC, domain: 'lab', owner: owner.id,
      auth: await signCreate(owner.key, SMALL_SPEC, 'lab', Date.now(), credential?.key), ...(credential !== undefined ? { credential } : {}),
      biddingMs: 0, cost: 0, budgetMs: 60_000
    }
    const error = await t.throwsAsync(call(rogue.node, multiaddr(plant.multiaddrs[0] as string), PROTOCOLS.order, body, z.unknown()))
    return error.message
  }
  t.regex(await order(undefined), /\(missing\)/)
  t.regex(await order(aliceLab, bob), /\(other-client\)/)
  t.regex(await order(await grant(labKey, 'lab', alice.id, 1000, Date.now() - 60_000)), /\(expired\)/)
  t.regex(await order({ ...aliceLab, sig: Buffer.alloc(64, 7).toString('base64') }), /\(bad-signature\)/)
  // a valid credential passes the edge; the plant then refuses a peer that did not call for bids
  t.regex(await order(aliceLab), /did not call plant/)
  t.is(await recorded(), before)
})

test.serial('only a credential for a VM\'s domain reaches it: another domain, another client or none is refused', async (t) => {
  const created = await alice.shop.create(SMALL_SPEC, 'lab', aliceLab, { signal: AbortSignal.timeout(30_000) })
  const { vmid } = created.classad
  t.is(created.classad.domainKey, aliceLab.key)
  const bobOwn = await grant(await generateKeyPair('Ed25519'), 'mine', bob.id)
  const refused = async (work: Promise<unknown>, problem: string): Promise<void> => {
    const error = await t.throwsAsync(work)
    t.regex(error.message, new RegExp(`\\(${problem}\\)`))
  }
  await refused(bob.shop.query(vmid, []), 'missing')
  await refused(bob.shop.destroy(vmid, []), 'missing')
  await refused(bob.shop.query(vmid, [bobOwn]), 'domain-mismatch')
  await refused(bob.shop.destroy(vmid, [bobOwn]), 'domain-mismatch')
  await refused(bob.shop.destroy(vmid, [aliceLab]), 'other-client')
  await refused(alice.shop.query(vmid, [await grant(labKey, 'lab', alice.id, 1000, Date.now() - 60_000)]), 'expired')
  t.deepEqual((await bob.shop.list([bobOwn])).vms, [])

  // the shop only passes credentials on: a query sent to the plant directly is checked there too
  const plant = federation.plants.find((p) => p.peerId === created.classad.plant)!
  const direct = await t.throwsAsync(call(bob.node, multiaddr(plant.multiaddrs[0] as string), PROTOCOLS.vm,
    { type: 'vm.destroy', vmid, auth: await signAuth(bob.key, 'destroy', vmid, Date.now()), credentials: [bobOwn] }, z.unknown()))
  t.regex(direct.message, /\(domain-mismatch\)/)

  t.is((await alice.shop.query(vmid, [aliceLab])).state, 'running')
  t.deepEqual((await alice.shop.list([aliceLab])).vms.map((ad) => ad.vmid), [vmid])
  // a client the domain granted reaches the domain's VMs, and its VMs join the domain's network
  const bobLab = await grant(labKey, 'lab', bob.id)
  t.is((await bob.shop.query(vmid, [bobLab])).vmid, vmid)
  const joined = await bob.shop.create(SMALL_SPEC, 'lab', bobLab, { signal: AbortSignal.timeout(30_000) })
  t.deepEqual(joined.classad.network, created.classad.network)
  t.regex(joined.bidding.offers[0]!.reason, /reuses lab's network/)
  await bob.shop.destroy(joined.classad.vmid, [bobLab])
  await alice.shop.destroy(vmid, [aliceLab])
  const gone = await t.throwsAsync(alice.shop.query(vmid, [aliceLab]))
  t.is((gone as { code?: string }).code, 'VmNotFoundError')
})

test.serial('two domains with the same name and different keys are two domains: separate networks, separate VMs', async (t) => {
  const aliceClient = new VmplantClient({ shop: federation.shopAddr, privateKey: alice.key })
  const bobClient = new VmplantClient({ shop: federation.shopAddr, privateKey: bob.key })
  await aliceClient.start()
  await bobClient.start()
  try {
    // each client's "twin" is a key of its own, made on first use
    const a = await aliceClient.create(SMALL_SPEC, 'twin')
    const b = await bobClient.create(SMALL_SPEC, 'twin')
    t.is(a.classad.domain, 'twin')
    t.is(b.classad.domain, 'twin')
    t.not(a.classad.domainKey, b.classad.domainKey)
    t.notDeepEqual(a.classad.network, b.classad.network, 'the namesakes never share a network')
    t.regex(b.bidding.offers[0]!.reason, /new host-only network/)
    t.deepEqual((await aliceClient.list()).vms.map((ad) => ad.vmid), [a.classad.vmid])
    t.deepEqual((await bobClient.list()).vms.map((ad) => ad.vmid), [b.classad.vmid])
    const error = await t.throwsAsync(bobClient.destroy(a.classad.vmid))
    t.regex(error.message, /\(domain-mismatch\)/)
    await aliceClient.destroy(a.classad.vmid)
    await bobClient.destroy(b.classad.vmid)
  } finally {
    await aliceClient.stop()
    await bobClient.stop()
  }
})
