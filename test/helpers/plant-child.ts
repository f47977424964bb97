/**
 * A `vmplant node` for namespace tests that must break its connections: the node of the config
 * file (argv[2]) started as `vmplant node` would, plus two signals.
 * - SIGUSR2 aborts every connection that carries a VNET tunnel, as a network failure would, and
 *   prints {"event":"broken","connections":N}.
 * - SIGTERM stops the node with its VMs destroyed (bridges, taps and guest processes removed) and exits.
 * Prints {"event":"ready",peer,addrs,roles} once started.
 */
import '../../src/polyfill.js'
import { loadNodeConfig } from '../../src/daemon/config.js'
import { VmplantNode } from '../../src/daemon/vmplant-node.js'
import { VNET_PROTOCOL } from '../../src/net/tunnels/vnet/index.js'

const file = process.argv[2]
if (file === undefined) throw new Error('usage: plant-child.js CONFIG')
const config = await loadNodeConfig(file)
const node = new VmplantNode(config, { name: 'plant-child' })
await node.start()

process.on('SIGUSR2', () => {
  let broken = 0
  for (const connection of node.libp2p?.getConnections() ?? []) {
    if (!connection.streams.some((s) => s.protocol === VNET_PROTOCOL)) continue
    connection.abort(new Error('the test broke the connection'))
    broken++
  }
  process.stdout.write(JSON.stringify({ event: 'broken', connections: broken }) + '\n')
})
let stopping = false
process.on('SIGTERM', () => {
  if (stopping) return
  stopping = true
  node.stop({ destroyVms: true }).then(() => process.exit(0), (err) => {
    process.stderr.write(`stop failed: ${String(err)}\n`)
    process.exit(1)
  })
})
process.stdout.write(JSON.stringify({ event: 'ready', peer: node.peerId, addrs: node.multiaddrs, roles: config.roles }) + '\n')
