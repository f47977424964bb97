/**
 * One tunnel straight to a plant, for the VNET tests' refusals, run inside the client site's
 * namespace: the client's side of `/vmplant/vnet/1.0.0` (a tap on the LAN bridge, a VnetTunnel).
 * argv: JSON {key, plant, domain, credential (a file), bridge, tap, mtu?}. Prints each tunnel event as a
 * JSON line. SIGTERM stops the tunnel, removes the tap and exits.
 */
import { readFile } from 'node:fs/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { loadOrCreateKey } from '../../src/net/keys.js'
import { createNode } from '../../src/net/node.js'
import { openTap, VnetTunnel } from '../../src/net/tunnels/vnet/index.js'

const args = JSON.parse(process.argv[2] ?? '{}') as { key: string, plant: string, domain: string, credential: string, bridge: string, tap: string, mtu?: number }
const libp2p = await createNode({ privateKey: await loadOrCreateKey(args.key), listen: [] })
await libp2p.start()
const port = await openTap({ name: args.tap, bridge: args.bridge, ...(args.mtu !== undefined ? { mtu: args.mtu } : {}) })
const tunnel = new VnetTunnel(libp2p, port, {
  plant: [multiaddr(args.plant)],
  domain: args.domain,
  credential: JSON.parse(await readFile(args.credential, 'utf8')),
  onEvent: (event) => { process.stdout.write(JSON.stringify(event) + '\n') }
})
tunnel.start()
process.on('SIGTERM', () => {
  tunnel.stop().then(async () => { await port.close(); await libp2p.stop() }).then(() => process.exit(0), () => process.exit(1))
})
process.stdout.write(JSON.stringify({ type: 'ready' }) + '\n')
