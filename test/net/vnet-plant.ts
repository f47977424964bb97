/**
 * A plant for the VNET tests, run inside the plant site's namespace (`ip netns exec`): a plant
 * (sim line) whose VNET edge attaches the test's domain to the test's bridge.
 * argv: JSON {dataDir, listen, shop, domain, domainKey, bridge, mtu?}. Prints {"event":"ready",...}.
 * SIGUSR2 breaks every connection that carries a tunnel, SIGTERM stops the node (its taps are
 * removed) and exits: see helpers/node-signals.ts.
 */
import { VmplantNode } from '../../src/daemon/vmplant-node.js'
import { validateNodeConfig } from '../../src/daemon/config.js'
import { answerTestSignals } from '../helpers/node-signals.js'

const args = JSON.parse(process.argv[2] ?? '{}') as { dataDir: string, listen: string, shop: string, domain: string, domainKey: string, bridge: string, mtu?: number }
const config = validateNodeConfig({ roles: ['plant'], listen: [args.listen], bootstrap: [args.shop], redialMs: 200, dataDir: args.dataDir, plant: { memoryMB: 4096 } })
const node = new VmplantNode(config, {
  name: 'vnet-plant',
  vnet: {
    ...(args.mtu !== undefined ? { mtu: args.mtu } : {}),
    // the simulator's networks are records only: the test's bridge stands for the domain's network
    bridgeFor: (domain) => domain.name === args.domain && domain.key === args.domainKey ? args.bridge : undefined
  }
})
await node.start()

answerTestSignals(node)
process.stdout.write(JSON.stringify({ event: 'ready', peer: node.peerId, addrs: node.multiaddrs }) + '\n')
