import { ActorSystem, seededRandom, type ActorRef, type Message } from '../src/actors/runtime/index.js'
import { shopBehavior, type ShopComponents } from '../src/actors/shop/shop.js'
import type { ShopMessage } from '../src/actors/shop/messages.js'
import { plantBehavior } from '../src/actors/plant/plant.js'
import type { PlantMessage } from '../src/actors/plant/messages.js'
import { brokerBehavior, type BrokerMessage } from '../src/actors/broker/broker.js'
import { edgeTable, type Actors, type Delivery, type EdgeTableInit } from '../src/edges/index.js'
import { costModel, COST_DEFAULTS, type CostConfig } from '../src/pricing/index.js'
import { goldenImages, imageCatalog, type LearningConfig } from '../src/images/index.js'
import { simLine, type SimLineInit } from '../src/hypervisor/sim/index.js'
import type { CreateResult, ProductionLine, ProgressOptions } from '../src/interface/index.js'
import { VirtualClock } from './virtual-clock.js'
import { MemoryNetwork } from './memory-transport.js'
import { simClients, type SimClient } from './sim-client.js'
import type { LinkModel } from './links.js'
import type { LevelStore } from '../src/store/index.js'
import { memoryPlantStore } from './memory-store.js'

export interface SimPlantInit {
  /** the site whose broker calls this plant; none: the shop calls it */
  site?: string
  line?: SimLineInit
  cost?: Partial<CostConfig>
  /** learning golden images from repeated action prefixes; @default off */
  learning?: LearningConfig
  /** @default 4096 */
  memoryMB?: number
  /**
   * its peer id; @default `sim-plant-<index>`. The shop finds a VM's plant from its VMID, which
   * holds a base58 peer id as on libp2p: query and destroy through the shop need one here.
   */
  peer?: string
  /** one-way delay of messages to and from it, ms; @default the federation's */
  latencyMs?: number
}

export interface SimBrokerInit {
  site: string
  /** @default `sim-broker-<site>` */
  peer?: string
  /** one-way delay of messages to and from it, ms; @default the federation's */
  latencyMs?: number
}

export interface SimFederationInit {
  plants: SimPlantInit[]
  /** sites that have a broker */
  brokers?: Array<string | SimBrokerInit>
  shop?: Partial<Omit<ShopComponents, 'transport'>>
  /** @default 1 */
  seed?: number
  /** one-way latency of every message, ms; @default 1 */
  latencyMs?: number
  /** per-message delays, loss and partitions; @default each node's constant latency */
  links?: LinkModel
  /** how long after it joins a plant or broker is reached by gossip (MemoryNetworkInit); @default 1 */
  reachableAfterMs?: number
  /**
   * Plants behind a broker push their load to it, and it prices calls from the reports, asking one
   * plant to confirm (O(1) plant messages a call); false: brokers republish every call to all of
   * their plants (O(plants)), the exhaustive baseline. @default {} (reports every 10 s)
   */
  loadReports?: false | { heartbeatMs?: number }
  /** sees every message sent to an actor (`plant-<i>`, `broker-<site>`, `shop`), e.g. to count them */
  trace?: (actor: string, message: Message) => void
  /** sees each command a node's edge table delivers, by the node's peer id, and its answer */
  onDelivered?: (peer: string, delivery: Delivery) => void
}

/** the shop's peer id in the simulator */
export const SIM_SHOP_PEER = 'sim-shop'

export interface SimPlant { peer: string, actor: ActorRef<PlantMessage>, line: ProductionLine, store: LevelStore }

export interface SimFederation {
  clock: VirtualClock
  network: MemoryNetwork
  shop: ActorRef<ShopMessage>
  brokers: Map<string, ActorRef<BrokerMessage>>
  plants: SimPlant[]
  /** a create through the shop, run on the virtual clock until it is answered */
  create(spec: unknown, domain: string, owner?: string, options?: ProgressOptions): Promise<CreateResult>
  /** a client's requests to the shop; they do not move the clock: the caller runs it */
  client: SimClient
  stop(): Promise<void>
}

export type { SimClient }

/**
 * The real shop, broker and plant actors on a virtual clock and an in-memory network, with sim
 * production lines and in-memory stores: no libp2p, no host timers.
 */
export async function startSimFederation (init: SimFederationInit): Promise<SimFederation> {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1))
  const network = new MemoryNetwork({
    clock,
    latencyMs: init.latencyMs ?? 1,
    ...(init.links !== undefined ? { links: init.links } : {}),
    ...(init.reachableAfterMs !== undefined ? { reachableAfterMs: init.reachableAfterMs } : {})
  })
  const system = new ActorSystem({ clock, random: seededRandom(init.seed ?? 1), logPrefix: 'vmplant:sim', ...(init.trace !== undefined ? { trace: init.trace } : {}) })
  const loadReports = init.loadReports ?? {}
  const plants: SimPlant[] = []
  const brokers = new Map<string, ActorRef<BrokerMessage>>()

  // every node's commands go through the same edge table as a libp2p node's, over its own actors
  const shopActors: Actors = {}
  const observed = (peer: string): EdgeTableInit => init.onDelivered !== undefined ? { onDelivered: (delivery) => init.onDelivered?.(peer, delivery) } : {}
  const shopInbox = edgeTable(shopActors, observed(SIM_SHOP_PEER))
  const shopTransport = network.join(SIM_SHOP_PEER, { shop: true, inbox: shopInbox })
  const shop = shopActors.shop = await system.spawn<any, ShopMessage>('shop', shopBehavior({ transport: shopTransport, bidWindowMs: 2000, orderTimeoutMs: 120_000, ...init.shop }))

  for (const b of init.brokers ?? []) {
    const { site, peer = `sim-broker-${site}`, latencyMs } = typeof b === 'string' ? { site: b } as SimBrokerInit : b
    const actors: Actors = {}
    const transport = network.join(peer, { broker: { site }, inbox: edgeTable(actors, observed(peer)), ...(latencyMs !== undefined ? { latencyMs } : {}) })
    const broker = actors.broker = await system.spawn<any, BrokerMessage>(`broker-${site}`, brokerBehavior({ transport, site, windowShare: 0.6 }))
    brokers.set(site, broker)
  }

  for (const [i, p] of init.plants.entries()) {
    const peer = p.peer ?? `sim-plant-${i}`
    const actors: Actors = {}
    const transport = network.join(peer, { plant: p.site !== undefined ? { site: p.site } : {}, inbox: edgeTable(actors, observed(peer)), ...(p.latencyMs !== undefined ? { latencyMs: p.latencyMs } : {}) })
    const line = simLine({ ...p.line, clock })
    await line.start()
    const store = memoryPlantStore()
    await store.start()
    const cost = { ...COST_DEFAULTS, ...p.cost }
    // each plant's cost model draws from its own stream, so one plant's draws do not shift another's
    const random = seededRandom((Math.imul((init.seed ?? 1) ^ 0xc057c057, 0x9e3779b1) + i) >>> 0)
    const learning = p.learning !== undefined && p.learning.after > 0 ? { learning: p.learning } : {}
    const loadReport = p.site !== undefined && loadReports !== false ? { loadReport: { cost, ...loadReports } } : {}
    const actor = actors.plant = await system.spawn<any, PlantMessage>(`plant-${i}`, plantBehavior({ line, store, images: goldenImages({ catalog: imageCatalog(store.warehouse) }), transport, cost: costModel(cost, { random }), limits: cost, memoryCapacityMB: p.memoryMB ?? 4096, ...learning, ...loadReport }))
    plants.push({ peer, actor, line, store })
  }

  const client = simClients({ clock, shop: shopInbox, seed: init.seed ?? 1 })

  return {
    clock,
    network,
    shop,
    brokers,
    plants,
    client,
    create: async (spec, domain, owner, options) => await clock.run(client.create(spec, domain, owner, options)),
    stop: async () => {
      await system.stop()
      for (const plant of plants) {
        await plant.line.stop({ destroyAll: true })
        await plant.store.stop()
      }
    }
  }
}
