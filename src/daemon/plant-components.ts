import { resolve } from 'node:path'
import { randomInt } from 'node:crypto'
import { totalmem } from 'node:os'
import type { Logger } from '@libp2p/logger'
import { seededRandom } from '../actors/runtime/index.js'
import type { PlantComponents } from '../actors/plant/plant.js'
import { costModel } from '../pricing/index.js'
import type { LevelStore } from '../store/index.js'
import type { HostNetworks, ProductionLine, Transport } from '../interface/index.js'
import { hostNetworks, prefixFor } from '../hypervisor/net/index.js'
import { goldenImages, type ImageCatalog, type PeerImages } from '../images/index.js'
import { availableMemoryMB } from './host-memory.js'
import { faultsFromEnv } from './faults.js'
import type { NodeConfig } from './config.js'

/** The host's side of the plant's domain networks, unless they are modelled (see the `networks` option). */
export function plantNetworks (config: NodeConfig, line: ProductionLine): { hostNetworks: HostNetworks } | undefined {
  const mode = config.plant.networks ?? (line.kind !== 'sim' && line.capabilities().bridgeNic === true ? 'bridge' : 'model')
  if (mode === 'model') return undefined
  return { hostNetworks: hostNetworks({ prefix: config.plant.networkPrefix ?? prefixFor(resolve(config.dataDir)) }) }
}

/** What the node started for its plant: the line (checked healthy), the store, the golden images. */
export interface PlantParts {
  line: ProductionLine
  store: LevelStore
  catalog: ImageCatalog
  images: PeerImages
  networks: { hostNetworks?: HostNetworks }
}

/** A node's plant: its started parts, with the config's pricing, bounds and options. */
export function plantComponents (config: NodeConfig, parts: PlantParts, transport: Transport, log: Logger): PlantComponents {
  const faults = faultsFromEnv(log)
  return {
    line: parts.line,
    store: parts.store,
    images: goldenImages({ catalog: parts.catalog, peers: parts.images }),
    transport,
    ...(faults !== undefined ? { faults } : {}),
    cost: costModel(config.plant.cost, { random: seededRandom(randomInt(2 ** 31)) }),
    limits: config.plant.cost,
    memoryCapacityMB: config.plant.memoryMB ?? Math.floor(totalmem() / 1024 / 1024 * 0.8),
    hostFreeMB: availableMemoryMB,
    ...(config.plant.imageFetch !== undefined ? { imageFetch: config.plant.imageFetch } : {}),
    ...parts.networks,
    ...(config.site !== undefined ? { loadReport: { cost: config.plant.cost } } : {}),
    maxQueuedOrders: config.plant.maxQueuedOrders,
    ...(config.plant.learning.after > 0 || config.plant.learning.diskBudgetMB !== undefined ? { learning: config.plant.learning } : {})
  }
}
