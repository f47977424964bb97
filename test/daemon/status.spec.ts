import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import { createNode, type VmplantLibp2p } from '../../src/net/node.js'
import { call } from '../../src/net/rpc.js'
import { PROTOCOLS } from '../../src/net/protocols.js'
import { RemoteError } from '../../src/net/errors.js'
import { countsOnly, statusProtocol, type NodeStatus } from '../../src/net/protocols/status/index.js'
import { nodeSet } from '../helpers/nodes.js'

async function asker (t: { teardown: (f: () => Promise<void>) => void }): Promise<{ libp2p: VmplantLibp2p, peer: string }> {
  const privateKey = await generateKeyPair('Ed25519')
  const libp2p = await createNode({ privateKey, listen: [] })
  await libp2p.start()
  t.teardown(async () => { await libp2p.stop() })
  return { libp2p, peer: peerIdFromPrivateKey(privateKey).toString() }
}

test('the status edge answers by the asker\'s authenticated peer: its allowlist sees ids, anyone else counts', async (t) => {
  const nodes = await nodeSet(t)
  const operator = await asker(t)
  const stranger = await asker(t)
  const plant = await nodes.start('plant', { roles: ['plant'], status: { allow: [operator.peer] } })
  const addr = multiaddr(plant.multiaddrs[0] as string)

  const full = await statusProtocol({ libp2p: operator.libp2p }).ask(addr)
  t.is(full.detail, 'full')
  t.is(full.peer, plant.peerId)
  t.deepEqual(full.roles, ['plant'])
  t.deepEqual(full.plant?.vms, { count: 0, byState: {}, list: [] })
  t.deepEqual(full.plant?.networks, { count: 0, list: [] })
  t.deepEqual(full.peers.list?.map((p) => p.peer), [operator.peer])

  const counts = await statusProtocol({ libp2p: stranger.libp2p }).ask(addr)
  t.is(counts.detail, 'counts')
  t.deepEqual(counts.plant?.vms, { count: 0, byState: {} })
  t.deepEqual(counts.plant?.networks, { count: 0 })
  t.is(counts.peers.list, undefined)
})

test('a malformed status request gets an error naming the field, and the node carries on', async (t) => {
  const nodes = await nodeSet(t)
  const someone = await asker(t)
  const shop = await nodes.start('shop', { roles: ['shop'] })
  const addr = multiaddr(shop.multiaddrs[0] as string)
  const error = await t.throwsAsync(call(someone.libp2p, addr, PROTOCOLS.status, { type: 'status', give: 'me everything' }, z.unknown()))
  t.true(error instanceof RemoteError)
  t.is((error as RemoteError).code, 'MalformedMessageError')
  t.regex(error.message, /\/vmplant\/status\/1.0.0 request is malformed: Unrecognized key: "give"/)
  const big = await t.throwsAsync(call(someone.libp2p, addr, PROTOCOLS.status, { type: 'status', pad: 'x'.repeat(2000) }, z.unknown(), { maxBytes: 8 * 1024 * 1024 }))
  t.regex(big.message, /request is over the limit of 1024 bytes/)
  const status = await statusProtocol({ libp2p: someone.libp2p }).ask(addr)
  t.deepEqual(status.roles, ['shop'])
  t.is(status.plant, undefined)
})

test('countsOnly leaves nothing that names a VM, a domain network or a peer', (t) => {
  const full: NodeStatus = {
    peer: '12D3KooWQzrxBRGLGnCAKSHWeVNsZiXWhTwmvj6A5FGN9sqJrPAx',
    roles: ['plant'],
    addrs: [],
    detail: 'full',
    peers: { connected: 1, gossip: 1, dht: 0, list: [{ peer: '12D3KooWQzrxBRGLGnCAKSHWeVNsZiXWhTwmvj6A5FGN9sqJrPAx', addr: '/ip4/127.0.0.1/tcp/1' }] },
    plant: {
      line: 'sim',
      vms: { count: 1, byState: { running: 1 }, list: [{ vmid: 'vm-0123456789abcdef.12D3KooWQzrxBRGLGnCAKSHWeVNsZiXWhTwmvj6A5FGN9sqJrPAx', state: 'running', line: 'sim', domain: 'secret-domain', memoryMB: 64, owner: '12D3KooWQzrxBRGLGnCAKSHWeVNsZiXWhTwmvj6A5FGN9sqJrPAx', createdAt: 'x' }] },
      networks: { count: 1, list: [{ domain: 'secret-domain-id', name: 'hostonly-0', index: 0 }] },
      images: { count: 0, bytes: 0, list: [] }
    }
  }
  const text = JSON.stringify(countsOnly(full))
  t.false(text.includes('secret-domain'))
  t.false(text.includes('vm-0123'))
  t.false(text.includes('/ip4/127.0.0.1/tcp/1'))
  t.is(countsOnly(full).plant?.vms.count, 1)
})
