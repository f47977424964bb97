/**
 * A `vmplant node` for namespace tests that must break its connections: the node of the config
 * file (argv[2]) started as `vmplant node` would, plus the two signals of node-signals.ts
 * (SIGUSR2 breaks its tunnel connections, SIGTERM stops it with its VMs destroyed).
 * Prints {"event":"ready",peer,addrs,roles} once started.
 */
import { loadNodeConfig } from '../../src/daemon/config.js'
import { VmplantNode } from '../../src/daemon/vmplant-node.js'
import { answerTestSignals } from './node-signals.js'

const file = process.argv[2]
if (file === undefined) throw new Error('usage: plant-child.js CONFIG')
const config = await loadNodeConfig(file)
const node = new VmplantNode(config, { name: 'plant-child' })
await node.start()

answerTestSignals(node)
process.stdout.write(JSON.stringify({ event: 'ready', peer: node.peerId, addrs: node.multiaddrs, roles: config.roles }) + '\n')
