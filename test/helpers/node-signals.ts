import type { VmplantNode } from '../../src/daemon/vmplant-node.js'
import { VNET_PROTOCOL } from '../../src/net/tunnels/vnet/index.js'

/**
 * The signals of a node child that namespace tests drive:
 * - SIGUSR2 aborts every connection that carries a VNET tunnel, as a network failure would, and
 *   prints {"event":"broken","connections":N}.
 * - SIGTERM stops the node with its VMs destroyed (bridges, taps and guest processes removed) and exits.
 */
export function answerTestSignals (node: VmplantNode): void {
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
}
