/**
 * A `vmplant node` plant for namespace tests of golden images between sites: the node of the
 * config file (argv[2]) with the signals of node-signals.ts, which then waits for a DHT peer and
 * - with `VMPLANT_TEST_PROVIDE=1`, announces its warehouse on the DHT (a plant started before
 *   its peers announces to nobody) and prints {"event":"provided"};
 * - with `VMPLANT_TEST_FIND=<image id>`, asks the DHT until a holder of the image answers and
 *   prints {"event":"found","holders":[...]}.
 * Every fetched image is printed as {"event":"image.fetched",id,peer,remoteAddrs}: the addresses
 * of its connections to the holder, so a test sees the path the transfer took.
 */
import { loadNodeConfig } from '../../src/daemon/config.js'
import { VmplantNode } from '../../src/daemon/vmplant-node.js'
import { answerTestSignals } from './node-signals.js'

const print = (line: object): void => { process.stdout.write(JSON.stringify(line) + '\n') }

const file = process.argv[2]
if (file === undefined) throw new Error('usage: image-plant-child.js CONFIG')
const config = await loadNodeConfig(file)
const node = new VmplantNode(config, { name: 'image-plant-child' })
await node.start()
answerTestSignals(node)
const images = node.images
if (images === undefined) throw new Error('this node has no image component: is it a plant?')
images.onEvent((event) => {
  if (event.type !== 'image.fetched') return
  const remoteAddrs = (node.libp2p?.getConnections() ?? []).filter((c) => c.remotePeer.toString() === event.peer).map((c) => c.remoteAddr.toString())
  print({ event: 'image.fetched', id: event.id, peer: event.peer, remoteAddrs })
})
print({ event: 'ready', peer: node.peerId, addrs: node.multiaddrs, roles: config.roles })

const deadline = AbortSignal.timeout(120_000)
const table = (node.libp2p!.services.dht as unknown as { routingTable: { size: number } }).routingTable
const pause = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
while (table.size === 0) {
  deadline.throwIfAborted()
  await pause(100)
}
if (process.env.VMPLANT_TEST_PROVIDE === '1') {
  await images.provide({ signal: deadline })
  print({ event: 'provided' })
}
const wanted = process.env.VMPLANT_TEST_FIND
if (wanted !== undefined) {
  for (;;) {
    deadline.throwIfAborted()
    const holders = await images.holders(wanted, { signal: deadline }).catch(() => [])
    if (holders.length > 0) {
      print({ event: 'found', holders })
      break
    }
    await pause(500)
  }
}
