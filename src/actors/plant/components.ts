import type { HostNetworks, PlantStore, ProductionLine, Transport } from '../../interface/index.js'
import type { ActorContext } from '../runtime/index.js'
import type { GoldenImages, LearningConfig } from '../../images/index.js'
import type { CostConfig, CostModel, ImageFetchConfig } from '../../pricing/index.js'
import type { Faults } from './ports.js'
import type { LoadReportConfig } from './load-report.js'
import type { PlantMessage } from './messages.js'
import type { PlantEvent } from './events.js'

/** What the plant's parts act through: its mailbox's context, with the plant's events. */
export type PlantContext = ActorContext<PlantMessage, PlantEvent>

export interface PlantComponents {
  line: ProductionLine
  store: PlantStore
  /** the plant's golden images: its warehouse's catalogue and, in the daemon, its peers' on the DHT */
  images: GoldenImages
  transport: Transport
  cost: CostModel
  limits: Pick<CostConfig, 'maxNetworks'>
  /** host memory the plant may give to VMs, in MB */
  memoryCapacityMB: number
  /** what the host has free now, in MB (the daemon reads /proc/meminfo); absent in the simulator */
  hostFreeMB?: () => number
  /** learning golden images from repeated action prefixes; off when absent */
  learning?: LearningConfig
  /**
   * with `images.peers`: a bid of a plant without an admissible image looks for a peer's and prices its
   * transfer; absent: such a bid charges `noImageCost` (a broker's estimates know no peer images)
   */
  imageFetch?: ImageFetchConfig
  /** fault injection for tests; absent in production */
  faults?: Faults
  /** how long an answered call is remembered, so that an order naming it is accepted; @default 600000 */
  callMemoryMs?: number
  /** the host's side of domain networks (bridges); absent: networks are modelled (the simulator) */
  hostNetworks?: HostNetworks
  /** load reports to the site's broker; absent for a plant that answers the shop itself */
  loadReport?: LoadReportConfig
  /**
   * orders in production past which the plant declines calls and refuses orders as busy (a
   * BusyError), rather than starting more work at once than its line can carry. @default
   * undefined (no bound: the simulator's plants); a node's config gives 64 (`plant.maxQueuedOrders`)
   */
  maxQueuedOrders?: number | undefined
}
