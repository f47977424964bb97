import test from 'ava'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateKey } from '../../src/net/keys.js'
import { runCli } from '../helpers/cli.js'
import { startLocalShop, startNodeProcess, eventually } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'
import { processFixture } from '../helpers/process-fixture.js'

const spec = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }

/** `vmplant status ARGS` in this process; what it printed */
async function status (...argv: string[]): Promise<string> {
  const { code, out, err } = await runCli('status', ...argv)
  if (code !== 0) throw new Error(`vmplant status exited with ${code}: ${err}`)
  return out
}

test('vmplant status shows a sim plant\'s VM by id to its operator, and only counts to a stranger', async (t) => {
  const { dir, procs, startClient } = await processFixture(t, 'vmplant-status-')
  const operatorKey = join(dir.path, 'operator.key')
  const operator = peerIdFromPrivateKey(await loadOrCreateKey(operatorKey)).toString()
  const strangerKey = join(dir.path, 'stranger.key')

  const { shop, shopAddr } = await startLocalShop(dir.path, 3000)
  procs.push(shop)
  const plantConfig = await dir.write('plant.yaml', `roles: [plant]\nlisten: [/ip4/127.0.0.1/tcp/0]\nbootstrap: [${shopAddr}]\ndataDir: plant\nredialMs: 200\nplant:\n  driver: { kind: sim }\nstatus:\n  allow: [${operator}]\n`)
  const plant = await startNodeProcess(plantConfig)
  procs.push(plant)
  const plantAddr = plant.ready.addrs[0] as string

  const c = await startClient({ shop: shopAddr, privateKey: await loadOrCreateKey(join(dir.path, 'client.key')) })
  const made = await eventually(async () => await c.create(spec, 'ops-team'), 20_000)
  const { vmid } = made.classad

  const seen = await status('--node', plantAddr, '--key', operatorKey)
  t.regex(seen, new RegExp(`node +${plant.ready.peer}`))
  t.regex(seen, /roles +plant/)
  t.regex(seen, /peers +[1-9]\d* connected/)
  t.regex(seen, /line +sim/)
  t.regex(seen, /VMs +1 \(1 running\)/)
  t.regex(seen, new RegExp(`${vmid.replace('.', '\\.')} +running +sim +ops-team +64 MB`))
  t.regex(seen, /networks 1\n +hostonly-0 +#0 /)
  t.regex(seen, /images +1, /, 'the golden image the sim line made for the create')

  const asJson = JSON.parse(await status('--node', plantAddr, '--key', operatorKey, '--json'))
  t.is(asJson.detail, 'full')
  t.deepEqual(asJson.plant.vms.list.map((v: { vmid: string, state: string, line: string, domain: string }) => [v.vmid, v.state, v.line, v.domain]), [[vmid, 'running', 'sim', 'ops-team']])

  const stranger = await status('--node', plantAddr, '--key', strangerKey)
  t.regex(stranger, /VMs +1 \(1 running\)/)
  t.regex(stranger, /networks 1/)
  t.false(stranger.includes(vmid), 'no VMID for a stranger')
  t.false(stranger.includes('ops-team'), 'nor the domain')
  t.regex(stranger, /counts only: list \S+ in the node's status.allow/)

  const ofShop = await status('--node', shopAddr, '--key', strangerKey)
  t.regex(ofShop, /roles +shop/)
  t.false(ofShop.includes('VMs'), 'a shop keeps no VMs')

  await c.destroy(vmid)
  t.regex(await status('--node', plantAddr, '--key', operatorKey), /VMs +0\n/)
})

test('vmplant status names a --node without a peer id as bad input, and an unreachable node as a failure', async (t) => {
  const bad = await runCli('status', '--node', '/ip4/127.0.0.1/tcp/1')
  t.is(bad.code, 2)
  t.regex(bad.err, /--node \/ip4\/127.0.0.1\/tcp\/1 is not the multiaddr of a node: it has no \/p2p/)
  const dir = await tempDir('vmplant-status-')
  t.teardown(dir.remove)
  const gone = await runCli('status', '--node', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWQzrxBRGLGnCAKSHWeVNsZiXWhTwmvj6A5FGN9sqJrPAx', '--key', join(dir.path, 'k.key'))
  t.is(gone.code, 1)
  t.regex(gone.err, /^vmplant: cannot reach the node at \/ip4\/127.0.0.1\/tcp\/1\/p2p\/12D3KooWQzrx\w+: .*ECONNREFUSED.*; if it is a closed federation, give its swarm key \(--psk\)/)
})

test('in a closed federation vmplant status needs the swarm key, and with it gets the node\'s answer', async (t) => {
  const dir = await tempDir('vmplant-status-')
  t.teardown(dir.remove)
  const key = join(dir.path, 'swarm.key')
  t.is((await runCli('federation', 'key', '--out', key)).code, 0)
  const config = await dir.write('shop.yaml', `roles: [shop]\nlisten: [/ip4/127.0.0.1/tcp/0]\ndataDir: shop\nfederation:\n  psk: swarm.key\n`)
  const shop = await startNodeProcess(config)
  t.teardown(async () => { await shop.kill() })
  const addr = shop.ready.addrs[0] as string
  const asker = join(dir.path, 'asker.key')
  const without = await runCli('status', '--node', addr, '--key', asker)
  t.is(without.code, 1)
  t.regex(without.err, /cannot reach the node at .*; if it is a closed federation, give its swarm key \(--psk\)/)
  t.regex(await status('--node', addr, '--key', asker, '--psk', key), /roles +shop\n/)
})
