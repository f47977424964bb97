/**
 * Runs N plants (sim line) in this process, bootstrapped to a shop, until SIGTERM; prints "ready".
 * Used by bench/bidding so that the shop and the plants use different cores.
 * Usage: node dist/bench/plants-worker.js SHOP_MULTIADDR N DATA_DIR
 */
import '../src/polyfill.js'
import { join } from 'node:path'
import { VmplantNode } from '../src/daemon/vmplant-node.js'
import { validateNodeConfig } from '../src/daemon/config.js'

const [shop, count, dataDir] = process.argv.slice(2)
if (shop === undefined || count === undefined || dataDir === undefined) throw new Error('usage: plants-worker SHOP N DATA_DIR')
const plants: VmplantNode[] = []
for (let i = 0; i < Number(count); i++) {
  plants.push(new VmplantNode(validateNodeConfig({
    roles: ['plant'],
    bootstrap: [shop],
    dataDir: join(dataDir, `plant-${i}`),
    plant: { memoryMB: 1_000_000, cost: { model: 'paper', maxNetworks: 4096, maxVms: 100_000 } }
  }), { name: `plant-${i}` }))
}
await Promise.all(plants.map(async (p) => p.start()))
process.stdout.write('ready\n')
process.on('SIGTERM', () => {
  void Promise.all(plants.map(async (p) => p.stop({ destroyVms: true }))).finally(() => process.exit(0))
})
