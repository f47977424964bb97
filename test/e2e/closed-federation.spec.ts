import test from 'ava'
import { join } from 'node:path'
import { stat } from 'node:fs/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { VmplantClient } from '../../src/cli/client.js'
import { loadOrCreateKey } from '../../src/net/keys.js'
import { readSwarmKey, writeSwarmKey } from '../../src/net/federation.js'
import { SwarmKeyError } from '../../src/net/errors.js'
import { loadNodeConfig, validateNodeConfig } from '../../src/daemon/config.js'
import { ConfigError } from '../../src/daemon/errors.js'
import { freePort, startNodeProcess, eventually, type NodeProcess } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'

const spec = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }

/** waits, with a deadline, until a node process logs that it could not reach its bootstrap peer */
async function refused (node: NodeProcess, deadlineMs = 15_000): Promise<string> {
  return await eventually(async () => {
    const line = node.stderr().split('\n').find((l) => /bootstrap peer .* not reachable/.test(l))
    if (line === undefined) throw new Error(`no refused dial logged yet: ${node.stderr().slice(-500)}`)
    return line
  }, deadlineMs, 100)
}

test('a closed federation: members with its swarm key create a VM; a node without the key, with another key or off the allowlist never connects, calls or bids', async (t) => {
  const dir = await tempDir()
  const procs: NodeProcess[] = []
  const clients: VmplantClient[] = []
  t.teardown(async () => {
    await Promise.all(clients.map(async (c) => { await c.stop().catch(() => {}) }))
    await Promise.all(procs.map(async (p) => p.kill()))
    await dir.remove()
  })
  const psk = join(dir.path, 'swarm.key')
  const otherPsk = join(dir.path, 'other.key')
  await writeSwarmKey(psk)
  await writeSwarmKey(otherPsk)
  t.is((await stat(psk)).mode & 0o777, 0o600)
  await t.throwsAsync(writeSwarmKey(psk), { instanceOf: SwarmKeyError, message: /never overwritten/ })
  await t.throwsAsync(readSwarmKey(await dir.write('bad.key', 'not a key\n')), { instanceOf: SwarmKeyError, message: /is not a swarm key/ })

  const plantKey = peerIdFromPrivateKey(await loadOrCreateKey(join(dir.path, 'plant-in.key'))).toString()
  const unlistedKey = peerIdFromPrivateKey(await loadOrCreateKey(join(dir.path, 'unlisted.key'))).toString()
  const clientKey = await generateKeyPair('Ed25519')
  const clientId = peerIdFromPrivateKey(clientKey).toString()

  const port = await freePort()
  const shopConfig = await dir.write('shop.yaml', `roles: [shop]\nlisten: [/ip4/127.0.0.1/tcp/${port}]\ndataDir: shop\nshop:\n  bidWindowMs: 3000\nfederation:\n  psk: swarm.key\n  allow: [${plantKey}, ${clientId}]\n`)
  const shop = await startNodeProcess(shopConfig)
  procs.push(shop)
  const shopAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${shop.ready.peer}`

  const plantConfig = (name: string, federation: string, cost: string, keyFile = ''): string =>
    `roles: [plant]\nlisten: [/ip4/127.0.0.1/tcp/0]\nbootstrap: [${shopAddr}]\ndataDir: ${name}\n${keyFile}redialMs: 200\nplant:\n  memoryMB: 8192\n  cost: { model: paper, networkCost: ${cost} }\n  driver: { kind: sim }\n${federation}`
  // the outsiders bid lower than the member: had any of them got in, it would win the create
  const debug = { DEBUG: 'vmplant:plant,vmplant:shop' }
  const [member, noKey, wrongKey, unlisted] = await Promise.all([
    startNodeProcess(await dir.write('plant-in.yaml', plantConfig('plant-in', 'federation: { psk: swarm.key }\n', '50', 'keyFile: plant-in.key\n'))),
    startNodeProcess(await dir.write('no-key.yaml', plantConfig('no-key', '', '0')), 30_000, debug),
    startNodeProcess(await dir.write('wrong-key.yaml', plantConfig('wrong-key', 'federation: { psk: other.key }\n', '0')), 30_000, debug),
    startNodeProcess(await dir.write('unlisted.yaml', plantConfig('unlisted', 'federation: { psk: swarm.key }\n', '0', 'keyFile: unlisted.key\n')), 30_000, debug)
  ])
  procs.push(member, noKey, wrongKey, unlisted)
  t.is(member.ready.peer, plantKey)
  t.is(unlisted.ready.peer, unlistedKey)
  for (const outsider of [noKey, wrongKey]) t.log(`${outsider.ready.peer}: ${await refused(outsider)}`)
  // the unlisted plant holds the key, so its handshake completes before the shop's gater drops it; it keeps redialling
  await eventually(async () => {
    if (unlisted.stderr().split('\n').filter((l) => /connected to bootstrap peer/.test(l)).length < 2) throw new Error('the unlisted plant has not redialled yet')
  }, 15_000, 100)

  // an outsider shop, with its own key, joined through the federation's shop: its call reaches no plant
  const outPort = await freePort()
  const outShop = await startNodeProcess(await dir.write('out-shop.yaml', `roles: [shop]\nlisten: [/ip4/127.0.0.1/tcp/${outPort}]\nbootstrap: [${shopAddr}]\ndataDir: out-shop\nredialMs: 200\nshop:\n  bidWindowMs: 500\nfederation: { psk: other.key }\n`), 30_000, debug)
  procs.push(outShop)
  t.log(`outsider shop: ${await refused(outShop)}`)

  const client = new VmplantClient({ shop: shopAddr, privateKey: clientKey, psk: await readSwarmKey(psk), timeoutMs: 20_000 })
  clients.push(client)
  await client.start()
  const created = await eventually(async () => await client.create(spec, 'grid'), 20_000)
  t.is(created.classad.plant, plantKey)
  t.deepEqual(created.bidding.offers.map((o) => o.plant), [plantKey], 'the member alone bid')
  t.is(created.bidding.expected, 1)
  t.is((await client.query(created.classad.vmid)).state, 'running')

  const outClient = new VmplantClient({ shop: `/ip4/127.0.0.1/tcp/${outPort}/p2p/${outShop.ready.peer}`, privateKey: await generateKeyPair('Ed25519'), psk: await readSwarmKey(otherPsk), timeoutMs: 10_000 })
  clients.push(outClient)
  await outClient.start()
  const lonely = await t.throwsAsync(outClient.create(spec, 'grid'))
  t.log(`outsider shop's create: ${lonely.message}`)
  t.regex(lonely.message, /no (offer|bid|plant)/i)

  // clients outside the federation cannot reach its shop, and are told so
  const strangers = [
    new VmplantClient({ shop: shopAddr, privateKey: await generateKeyPair('Ed25519'), timeoutMs: 3000 }),
    new VmplantClient({ shop: shopAddr, privateKey: await generateKeyPair('Ed25519'), psk: await readSwarmKey(otherPsk), timeoutMs: 3000 }),
    new VmplantClient({ shop: shopAddr, privateKey: await generateKeyPair('Ed25519'), psk: await readSwarmKey(psk), timeoutMs: 3000 })
  ]
  for (const stranger of strangers) {
    clients.push(stranger)
    await stranger.start()
    const err = await t.throwsAsync(stranger.list())
    t.log(`stranger client: ${err.message}`)
    t.regex(err.message, /cannot reach the shop/)
  }

  // and the outsiders never got in: the member is still the only bidder
  const again = await client.create(spec, 'grid')
  t.deepEqual(again.bidding.offers.map((o) => o.plant), [plantKey])
})

test('the federation config: the key file is taken from the config file\'s folder; a bad peer id or field is named', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const file = await dir.write('node.yaml', 'roles: [plant]\ndataDir: data\nfederation:\n  psk: keys/swarm.key\n')
  t.is((await loadNodeConfig(file)).federation?.psk, join(dir.path, 'keys/swarm.key'))
  t.throws(() => validateNodeConfig({ roles: ['shop'], dataDir: 'd', federation: { allow: ['12D3KooWnot-a-peer'] } }), { instanceOf: ConfigError, message: /federation\.allow\[0\]: is not a peer id/ })
  t.throws(() => validateNodeConfig({ roles: ['shop'], dataDir: 'd', federation: { key: 'x' } }), { instanceOf: ConfigError, message: /federation: unknown field\(s\) key/ })
})
