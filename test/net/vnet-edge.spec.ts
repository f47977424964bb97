import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createNode, type VmplantLibp2p } from '../../src/net/node.js'
import { signDomainCredential, domainPublicId } from '../../src/net/auth.js'
import { credentialAuthorizer, vnetServer, VNET_PROTOCOL, MAX_OPEN_BYTES, type VnetService } from '../../src/net/tunnels/vnet/index.js'
import type { DomainRef } from '../../src/interface/index.js'
import { runCli } from '../helpers/cli.js'

// The edge's refusals happen before any tap is made, so these run on 127.0.0.1; a tunnel that is
// let through is tested in namespaces (vnet.spec.ts).
let plant: VmplantLibp2p
let client: VmplantLibp2p
let server: VnetService
const calls = { authorize: 0, bridgeFor: 0 }
let authorize: (credential: unknown, peer: any) => Promise<DomainRef> = async () => { throw new Error('not set') }
let bridgeFor: (domain: DomainRef) => string | undefined = () => undefined

test.before(async () => {
  plant = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  client = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] })
  server = vnetServer({
    libp2p: plant,
    authorize: async (credential, peer) => { calls.authorize++; return await authorize(credential, peer) },
    bridgeFor: (domain) => { calls.bridgeFor++; return bridgeFor(domain) }
  })
  await server.start()
  await plant.start()
  await client.start()
})
test.after.always(async () => {
  await server?.stop()
  await client?.stop()
  await plant?.stop()
})

/** opens a tunnel stream, sends `body` as the opening and returns the plant's answer */
async function open (body: Uint8Array): Promise<any> {
  const stream = await client.dialProtocol(plant.getMultiaddrs()[0]!, VNET_PROTOCOL)
  const lp = lpStream(stream, { maxDataLength: 8 * 1024 * 1024 })
  await lp.write(body)
  const answer = await lp.read({ signal: AbortSignal.timeout(10_000) })
  stream.abort(new Error('done'))
  return JSON.parse(new TextDecoder().decode(answer.subarray()))
}
const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))

test.serial('an opening over the size limit, not JSON or of the wrong shape is refused before any credential is looked at', async (t) => {
  calls.authorize = 0
  const big = await open(json({ type: 'vnet.open', domain: 'lab', credential: 'x'.repeat(MAX_OPEN_BYTES) }))
  t.like(big, { ok: false, error: { code: 'MalformedMessageError' } })
  t.regex(big.error.message, /over the limit of 65536 bytes/)
  const garbage = await open(new TextEncoder().encode('{not json'))
  t.regex(garbage.error.message, /not valid UTF-8 JSON/)
  const shapeless = await open(json({ type: 'vnet.open', credential: {} }))
  t.regex(shapeless.error.message, /malformed at domain/)
  const badDomain = await open(json({ type: 'vnet.open', domain: 'Not A Domain', credential: {} }))
  t.regex(badDomain.error.message, /malformed at domain/)
  t.is(calls.authorize, 0)
})

test.serial('a credential that does not verify for the sending peer is refused with the reason, and no bridge is looked up', async (t) => {
  authorize = credentialAuthorizer({ now: Date.now })
  calls.bridgeFor = 0
  const domainKey = await generateKeyPair('Ed25519')
  const someoneElse = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const now = Date.now()
  const forOther = await signDomainCredential(domainKey, { domain: 'lab', client: someoneElse, issuedAt: now, expiresAt: now + 60_000 })
  const refused = await open(json({ type: 'vnet.open', domain: 'lab', credential: forOther }))
  t.like(refused, { ok: false, error: { code: 'VnetRefusedError' } })
  t.regex(refused.error.message, /tunnel for domain lab refused: domain credential refused \(other-client\)/)

  const forged = { ...await signDomainCredential(domainKey, { domain: 'lab', client: client.peerId.toString(), issuedAt: now, expiresAt: now + 60_000 }), expiresAt: now + 3_600_000 }
  t.regex((await open(json({ type: 'vnet.open', domain: 'lab', credential: forged }))).error.message, /bad-signature/)
  const expired = await signDomainCredential(domainKey, { domain: 'lab', client: client.peerId.toString(), issuedAt: now - 120_000, expiresAt: now - 60_000 })
  t.regex((await open(json({ type: 'vnet.open', domain: 'lab', credential: expired }))).error.message, /expired/)
  t.regex((await open(json({ type: 'vnet.open', domain: 'lab', credential: { hello: 1 } }))).error.message, /not a domain credential/)
  t.is(calls.bridgeFor, 0)
})

test.serial("a good credential for another domain, or for a domain this plant has no network of, is refused", async (t) => {
  authorize = credentialAuthorizer({ now: Date.now })
  const domainKey = await generateKeyPair('Ed25519')
  const now = Date.now()
  const credential = await signDomainCredential(domainKey, { domain: 'lab', client: client.peerId.toString(), issuedAt: now, expiresAt: now + 60_000 })
  const asked: DomainRef[] = []
  bridgeFor = (domain) => { asked.push(domain); return undefined }
  const otherDomain = await open(json({ type: 'vnet.open', domain: 'office', credential }))
  t.regex(otherDomain.error.message, /tunnel for domain office refused: the credential is for domain lab/)
  const noNetwork = await open(json({ type: 'vnet.open', domain: 'lab', credential }))
  t.regex(noNetwork.error.message, /this plant has no network for domain lab/)
  t.deepEqual(asked, [{ name: 'lab', key: domainPublicId(domainKey) }], 'the bridge is looked up by the domain the credential proves: its name and key')
  t.deepEqual(server.taps(), [])
  t.true(server.refused.length >= 2)
})

test('vnet proxy names what is wrong with its options, before it touches the network', async (t) => {
  const shop = `${plant.getMultiaddrs()[0]!.toString()}`
  const cases: Array<[string[], RegExp]> = [
    [['--shop', shop, '--domain', 'lab'], /give one of --bridge BR or --tap IF/],
    [['--shop', shop, '--domain', 'lab', '--bridge', 'br0', '--tap', 'tap0'], /give one of --bridge BR or --tap IF/],
    [['--shop', shop, '--domain', 'Not A Domain', '--bridge', 'br0'], /--domain "Not A Domain" must be lower-case/],
    [['--shop', shop, '--domain', 'lab', '--bridge', 'a-bridge-name-too-long'], /--bridge "a-bridge-name-too-long" is not a Linux interface name/],
    [['--shop', 'not-an-address', '--domain', 'lab', '--bridge', 'br0'], /--shop "not-an-address" is not a multiaddr/],
    [['--shop', shop, '--domain', 'lab', '--bridge', 'br0', '--poll-ms', '0'], /--poll-ms must be a whole number from 100/],
    [['--shop', shop, '--domain', 'lab', '--bridge', 'br0', '--mtu', '70000'], /--mtu must be a whole number from 68 to 65000/]
  ]
  for (const [args, message] of cases) {
    const result = await runCli('vnet', 'proxy', ...args)
    t.is(result.code, 2, args.join(' '))
    t.regex(result.err, message)
  }
})
