import test from 'ava'
import { join } from 'node:path'
import { writeSwarmKey } from '../../src/net/federation.js'
import { startNodeProcess, type NodeProcess } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'
import { vmplantProcess } from '../helpers/cli.js'

const vmplant = vmplantProcess

test('image and vnet commands reach a closed federation\'s node with --psk, and without it (or with another key) fail with the reason, not a hang', async (t) => {
  t.timeout(120_000)
  const dir = await tempDir()
  let node: NodeProcess | undefined
  t.teardown(async () => {
    await node?.kill()
    await dir.remove()
  })
  const psk = join(dir.path, 'swarm.key')
  const other = join(dir.path, 'other.key')
  await writeSwarmKey(psk)
  await writeSwarmKey(other)
  // one node, shop and plant, that takes connections only from holders of the swarm key
  node = await startNodeProcess(await dir.write('node.yaml', 'roles: [shop, plant]\nlisten: [/ip4/127.0.0.1/tcp/0]\ndataDir: node\nplant:\n  memoryMB: 4096\n  driver: { kind: sim }\nfederation: { psk: swarm.key }\n'))
  const tcp = node.ready.addrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/')) as string
  t.truthy(tcp, `the node listens on 127.0.0.1: ${node.ready.addrs.join(' ')}`)
  const addr = tcp.includes('/p2p/') ? tcp : `${tcp}/p2p/${node.ready.peer}`

  const listed = await vmplant('image', 'list', '--plant', addr, '--psk', psk, '--json')
  t.is(listed.code, 0, listed.err)
  t.true(Array.isArray(JSON.parse(listed.out)), listed.out)
  const planned = await vmplant('plan', '--plant', addr, '--psk', psk, '--spec', await dir.write('spec.json', JSON.stringify({ hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] })), '--json')
  t.is(planned.code, 0, planned.err)

  const without = await vmplant('image', 'list', '--plant', addr)
  t.is(without.code, 1)
  t.regex(without.err, /^vmplant: cannot reach the plant at \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+: .*; if it is a closed federation, give its swarm key \(--psk\)$/m)
  const wrong = await vmplant('image', 'list', '--plant', addr, '--psk', other)
  t.is(wrong.code, 1)
  t.regex(wrong.err, /cannot reach the plant at .*; is this the federation's swarm key\?/)
  const notAKey = await vmplant('image', 'list', '--plant', addr, '--psk', join(dir.path, 'node.yaml'))
  t.is(notAKey.code, 1)
  t.regex(notAKey.err, /node\.yaml is not a swarm key/)
  const local = await vmplant('image', 'list', '--warehouse', join(dir.path, 'node'), '--psk', psk)
  t.is(local.code, 2)
  t.regex(local.err, /--psk is for --plant/)

  // the VNET proxy asks the shop first: without the key it stops there, before any tap is made
  const key = join(dir.path, 'client.key')
  t.is((await vmplant('domain', 'create', 'lan', '--key', key)).code, 0)
  const proxy = await vmplant('vnet', 'proxy', '--shop', addr, '--domain', 'lan', '--tap', 'vpsk0', '--key', key)
  t.is(proxy.code, 1)
  t.regex(proxy.err, /^vmplant: cannot reach the shop at \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+: .*; if it is a closed federation, give its swarm key \(--psk\)$/m)
  const wrongProxy = await vmplant('vnet', 'proxy', '--shop', addr, '--domain', 'lan', '--tap', 'vpsk0', '--key', key, '--psk', other)
  t.is(wrongProxy.code, 1)
  t.regex(wrongProxy.err, /cannot reach the shop at .*; is this the federation's swarm key/)
})
