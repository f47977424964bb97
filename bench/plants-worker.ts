/**
 * Runs N plants (sim line) in this process, bootstrapped to a shop, until SIGTERM; prints "ready".
 * Used by bench/bidding so that the shop and the plants use different cores.
 * Usage: node dist/bench/plants-worker.js SHOP_MULTIADDR N DATA_DIR
 */
import { join } from 'node:path'
import { VmplantNode } from '../src/daemon/vmplant-node.js'
import { validateNodeConfig } from '../src/daemon/config.js'
import { plantStore } from '../src/store/index.js'
import { imageCatalog } from '../src/images/index.js'
import { simLine } from '../src/hypervisor/sim/index.js'
import { mkdir } from 'node:fs/promises'

const [shop, count, dataDir] = process.argv.slice(2)
if (shop === undefined || count === undefined || dataDir === undefined) throw new Error('usage: plants-worker SHOP N DATA_DIR')
/**
 * Each plant starts with the base golden image of the bench's hardware in its warehouse, as the
 * paper's plants had their goldens: otherwise every plant's first order would also search the DHT
 * for one, and with 50 plants most orders are a first order.
 */
async function stockWarehouse (dataDir: string): Promise<void> {
  const store = plantStore(join(dataDir, 'store'))
  await store.start()
  try {
    const line = simLine({ dir: join(dataDir, 'line') })
    await imageCatalog(store.warehouse).add(await line.prepareGolden({ hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' }, actions: [] }), 'built', Date.now())
  } finally {
    await store.stop()
  }
}

const plants: VmplantNode[] = []
for (let i = 0; i < Number(count); i++) {
  await mkdir(join(dataDir, `plant-${i}`, 'store'), { recursive: true })
  await stockWarehouse(join(dataDir, `plant-${i}`))
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
