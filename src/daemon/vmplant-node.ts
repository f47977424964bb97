import { join, resolve } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { randomInt } from 'node:crypto'
import { totalmem } from 'node:os'
import { availableMemoryMB } from './host-memory.js'
import { logger, type Logger } from '@libp2p/logger'
import { createNode, type VmplantLibp2p } from '../net/node.js'
import { loadOrCreateKey } from '../net/keys.js'
import { Libp2pTransport } from '../net/libp2p-transport.js'
import { ActorSystem, seededRandom, systemClock, type Clock, type Message } from '../actors/runtime/index.js'
import type { PlantStatus } from '../actors/plant/messages.js'
import { edgeTable, plantStatus, type Actors, type EdgeTableInit } from '../edges/index.js'
import type { BidsService } from '../net/protocols/bids/index.js'
import type { LoadService } from '../net/protocols/load/index.js'
import { shopBehavior } from '../actors/shop/shop.js'
import { plantBehavior } from '../actors/plant/plant.js'
import { brokerBehavior } from '../actors/broker/broker.js'
import { costModel } from '../pricing/index.js'
import { plantStore, type LevelStore } from '../store/index.js'
import { createLine } from './create-line.js'
import type { HostNetworks, Inbox, LineProgress, ProductionLine } from '../interface/index.js'
import { hostNetworks, prefixFor } from '../hypervisor/net/index.js'
import type { NodeConfig } from './config.js'
import { createBids, createLoad, createProtocols, serveProtocols, type DroppedMessage, createVnet, type VnetParts } from './wiring.js'
import type { VnetService } from '../net/tunnels/vnet/index.js'
import { BootstrapDialer } from './bootstrap.js'
import { imageNetwork } from '../net/protocols/image/index.js'
import { goldenImages, imageCatalog, imageFetchProgress, peerImages, type PeerImages } from '../images/index.js'
import { faultsFromEnv } from './faults.js'
import { LineUnhealthyError } from './errors.js'
import { NodeMetrics } from './metrics.js'
import { MetricsServer } from './metrics-server.js'
import { federationOf, scoredTopicsOf } from './federation.js'
import { statusProtocol } from '../net/protocols/status/index.js'
import { nodeStatus } from './node-status.js'

export interface VmplantNodeOptions {
  /** log prefix, one per node when several share a process */
  name?: string
  clock?: Clock
  /** a production line to use instead of the one the config names (the demo shares one) */
  line?: ProductionLine
  /** sees every message sent to this node's actors */
  trace?: (actor: string, message: Message) => void
  /**
   * An actor failed more often than its restart budget allows and was stopped: the node cannot
   * serve its role any more. `vmplant node` stops and exits non-zero, so that systemd restarts it.
   * @default logs the error and stops the node
   */
  onFatal?: (error: Error) => void
  /** the plant's VNET edge: where a domain's bridge is and who may tunnel to it (defaults in `VnetParts`) */
  vnet?: VnetParts
  /** sees the steps of the plant's line's long work (a golden image's build), for a person watching (`vmplant demo`) */
  onLineProgress?: (event: LineProgress) => void
  /** sees each command the protocols deliver to the actors, and its answer */
  onDelivered?: EdgeTableInit['onDelivered']
}

/** The host's side of the plant's domain networks, unless they are modelled (see the `networks` option). */
function plantNetworks (config: NodeConfig, line: ProductionLine): { hostNetworks: HostNetworks } | undefined {
  const mode = config.plant.networks ?? (line.kind !== 'sim' && line.capabilities().bridgeNic === true ? 'bridge' : 'model')
  if (mode === 'model') return undefined
  return { hostNetworks: hostNetworks({ prefix: config.plant.networkPrefix ?? prefixFor(resolve(config.dataDir)) }) }
}

/** One vmplant peer: a libp2p node and the actors of its roles, started and stopped together. */
export class VmplantNode {
  libp2p?: VmplantLibp2p
  actors: Actors = {}
  /** the edge table over `actors`: what the protocols deliver their commands to */
  readonly inbox: Inbox
  /** the plant's golden images on the DHT and their transfer (plants only) */
  images?: PeerImages
  /** the plant's side of VNET tunnels (plants only) */
  vnet?: VnetService
  /** the last messages the protocols' edges dropped (malformed, or not from their named sender) */
  readonly dropped: DroppedMessage[] = []
  private system?: ActorSystem
  private store?: LevelStore
  private bids?: BidsService
  private load?: LoadService
  private line?: ProductionLine
  private dialer?: BootstrapDialer
  private readonly log: Logger
  private started = false
  /** Prometheus metrics, when the config has `metrics` */
  metrics?: NodeMetrics
  private metricsServer?: MetricsServer

  constructor (readonly config: NodeConfig, private readonly options: VmplantNodeOptions = {}) {
    this.log = logger(`vmplant:${options.name ?? 'node'}`)
    this.inbox = edgeTable(this.actors, options.onDelivered !== undefined ? { onDelivered: options.onDelivered } : {})
  }

  get peerId (): string {
    if (this.libp2p === undefined) throw new Error('node is not started')
    return this.libp2p.peerId.toString()
  }

  /** where /metrics is served, `host:port`, when metrics are on and the node started */
  get metricsAddress (): string | undefined {
    return this.metricsServer?.address
  }

  /** the addresses others dial, each with /p2p/<id> */
  get multiaddrs (): string[] {
    return this.libp2p?.getMultiaddrs().map((a) => a.toString()) ?? []
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    try {
      await this.startParts()
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  private async startParts (): Promise<void> {
    const { config } = this
    const name = this.options.name ?? 'node'
    await mkdir(config.dataDir, { recursive: true })
    const privateKey = await loadOrCreateKey(config.keyFile ?? join(config.dataDir, 'node.key'))
    const dhtMode = config.dht ?? (config.roles.some((r) => r === 'shop' || r === 'broker') ? 'server' : 'client')
    const libp2p = this.libp2p = await createNode({ privateKey, listen: config.listen, logPrefix: `vmplant:${name}`, dhtMode, federation: await federationOf(config), scoredTopics: scoredTopicsOf(config.site) })
    const clock = this.options.clock ?? systemClock
    const onExhausted = (error: Error): void => {
      this.log.error('%s', error.message)
      if (this.options.onFatal !== undefined) this.options.onFatal(error)
      else this.stop().catch((err) => { this.log.error('stop after a fatal actor failure failed: %e', err) })
    }
    const metrics = this.metrics = config.metrics !== undefined ? new NodeMetrics() : undefined
    const trace = this.options.trace
    const system = this.system = new ActorSystem({ clock, random: seededRandom(randomInt(2 ** 31)), logPrefix: `vmplant:${name}`, onExhausted, ...(trace !== undefined ? { trace } : {}) })
    const roles = { plant: config.roles.includes('plant'), broker: config.roles.includes('broker'), shop: config.roles.includes('shop') }
    const bids = this.bids = createBids(libp2p, roles, config.site, this.inbox, this.log, this.dropped)
    const protocols = createProtocols(libp2p, clock, { maxRequestsPerConnection: config.maxRequestsPerConnection })
    // a plant behind a broker reports its load to it; a broker prices its site's calls from the reports
    const load = this.load = config.site !== undefined && (roles.plant || roles.broker) ? createLoad(libp2p, roles, config.site, this.inbox, this.log, this.dropped) : undefined
    const transport = new Libp2pTransport(libp2p, { bids, ...protocols, load })

    if (config.roles.includes('plant')) {
      this.store = plantStore(join(config.dataDir, 'store'))
      await this.store.start()
      this.line = this.options.line ?? createLine(config.plant.driver, join(config.dataDir, 'line'), { ...(this.options.onLineProgress !== undefined ? { onProgress: this.options.onLineProgress } : {}) })
      await this.line.start()
      const fingerprint = await this.line.fingerprint()
      if (!fingerprint.healthy) throw new LineUnhealthyError(`the ${this.line.kind} production line cannot run here: ${fingerprint.detail}`)
      this.log('%s line: %s (%s)', this.line.kind, fingerprint.version, fingerprint.acceleration)
      const faults = faultsFromEnv(this.log)
      // a line that imports goldens (QEMU: onto its tmpfs golden folder) says so; other lines clone them from `images/`
      const importers = this.line.capabilities().goldenImport === true && this.line.goldenImporter !== undefined ? [this.line.goldenImporter()] : []
      const catalog = imageCatalog(this.store.warehouse)
      const logPrefix = `vmplant:${name}:images`
      this.images = peerImages({ catalog, network: imageNetwork(libp2p, { logPrefix }), importers }, { dir: join(config.dataDir, 'images'), logPrefix })
      if (this.options.onLineProgress !== undefined) this.images.onEvent(imageFetchProgress(this.options.onLineProgress))
      const plant = await system.spawn('plant', plantBehavior({
        line: this.line,
        store: this.store,
        images: goldenImages({ catalog, peers: this.images }),
        transport,
        ...(faults !== undefined ? { faults } : {}),
        cost: costModel(config.plant.cost, { random: seededRandom(randomInt(2 ** 31)) }),
        limits: config.plant.cost,
        memoryCapacityMB: config.plant.memoryMB ?? Math.floor(totalmem() / 1024 / 1024 * 0.8),
        hostFreeMB: availableMemoryMB,
        ...(config.plant.imageFetch !== undefined ? { imageFetch: config.plant.imageFetch } : {}),
        ...(this.networks = plantNetworks(config, this.line) ?? {}),
        ...(config.site !== undefined ? { loadReport: { cost: config.plant.cost } } : {}),
        maxQueuedOrders: config.plant.maxQueuedOrders,
        ...(config.plant.learning.after > 0 || config.plant.learning.diskBudgetMB !== undefined ? { learning: config.plant.learning } : {})
      }))
      metrics?.watchPlant(plant.events)
      this.actors.plant = plant
    }
    if (config.roles.includes('broker')) {
      this.actors.broker = await system.spawn('broker', brokerBehavior({ transport, site: config.site as string, windowShare: config.broker.windowShare }))
    }
    if (config.roles.includes('shop')) {
      const shop = await system.spawn('shop', shopBehavior({ transport, ...config.shop }))
      metrics?.watchShop(shop.events)
      this.actors.shop = shop
    }
    await bids.start()
    await load?.start()
    await serveProtocols(protocols, this.inbox)
    const store = this.store
    const line = this.line
    const plant = store !== undefined && line !== undefined ? { store, warehouse: store.warehouse, line: line.kind } : undefined
    await statusProtocol({ libp2p }, { allow: config.status?.allow ?? [] }).handle(async (detail, signal) => await nodeStatus({ libp2p, config, ...(plant !== undefined ? { plant } : {}) }, detail, { signal }))
    if (this.store !== undefined) {
      this.vnet = createVnet(libp2p, clock, this.store, this.options.vnet ?? {}, this.log, this.actors.plant !== undefined ? this.inbox : undefined)
      await this.vnet.start()
    }
    await libp2p.start()
    await this.images?.start()
    bids.subscribe()
    load?.subscribe()
    this.dialer = new BootstrapDialer(libp2p, config.bootstrap, config.redialMs, this.log)
    this.dialer.start()
    if (metrics !== undefined && config.metrics !== undefined) {
      metrics.observe({ libp2p, ...(this.store !== undefined ? { store: this.store, warehouse: this.store.warehouse } : {}), ...(this.line !== undefined ? { line: this.line } : {}) })
      this.metricsServer = new MetricsServer(metrics, config.metrics.listen, this.log)
      await this.metricsServer.start()
    }
    this.log('started %s as %s on %s', libp2p.peerId, config.roles.join('+'), this.multiaddrs.join(' '))
  }

  /**
   * Stops as a crash would: connections dropped and actors stopped at once, before any further
   * message is handled; then the rest is closed. For fault injection in one process.
   */
  async abort (): Promise<void> {
    for (const connection of this.libp2p?.getConnections() ?? []) connection.abort(new Error('node aborted'))
    const stopping = this.system?.stop()
    await this.stop()
    await stopping
  }

  /**
   * The bidders a call from this node reaches now: the federation's (a shop's round waits for
   * these), or with `site`, that site's plants (its broker's)
   */
  bidders (site?: string): string[] {
    return (site === undefined ? this.bids?.bidders() : this.bids?.siteBidders(site)) ?? []
  }

  /** the plant's own account of itself (plants only) */
  async plantStatus (options: { signal?: AbortSignal } = {}): Promise<PlantStatus> {
    if (this.actors.plant === undefined) throw new Error('this node is not a plant')
    return await plantStatus(this.actors.plant, options)
  }

  /** the host's side of the plant's domain networks, when they are bridges */
  private networks: { hostNetworks?: HostNetworks } = {}

  private stopStep: StopStep | undefined

  /** what a stop that runs out of time abandons: the step it is in and the ones after it */
  stopAbandons (): string | undefined {
    if (this.stopStep === undefined) return undefined
    const left = STOP_STEPS.slice(STOP_STEPS.indexOf(this.stopStep) + 1)
    return `stopping ${this.stopStep}${left.length > 0 ? `; not reached: ${left.join(', ')}` : ''}`
  }

  /** Stops everything; VMs keep running unless `destroyVms` (the embedded demo and tests use it). */
  async stop (options: { destroyVms?: boolean } = {}): Promise<void> {
    const steps: Record<StopStep, () => Promise<void> | void> = {
      'the metrics endpoint': async () => await this.metricsServer?.stop(),
      'the redialer': () => this.dialer?.stop(),
      'the bid topics': async () => await this.bids?.stop(),
      'the load reports': async () => await this.load?.stop(),
      'the image service': async () => await this.images?.stop(),
      'the VNET tunnels': async () => await this.vnet?.stop(),
      libp2p: async () => await this.libp2p?.stop(),
      'the actors': async () => await this.system?.stop(),
      'the production line': async () => { if (this.options.line === undefined) await this.line?.stop({ destroyAll: options.destroyVms === true }) },
      'the domain bridges': async () => {
        // with its VMs gone, the plant's bridges go too (their records stay, as the VMs' do)
        const bridges = this.networks.hostNetworks
        if (options.destroyVms !== true || this.options.line !== undefined || bridges === undefined) return
        for (const index of await bridges.list()) await bridges.remove(index)
      },
      'the store': async () => await this.store?.stop()
    }
    // in STOP_STEPS' order, which stopAbandons reports from
    for (const name of STOP_STEPS) {
      this.stopStep = name
      await stopHangForTests(name)
      await steps[name]()
    }
    this.stopStep = undefined
    this.started = false
  }
}

const STOP_STEPS = ['the metrics endpoint', 'the redialer', 'the bid topics', 'the load reports', 'the image service', 'the VNET tunnels', 'libp2p', 'the actors', 'the production line', 'the domain bridges', 'the store'] as const
type StopStep = typeof STOP_STEPS[number]

/** the caller's trace and the metrics' in one hook */
/** for the stop-deadline test only: VMPLANT_TEST_STOP_HANG=<step> makes the stop hang at that step */
async function stopHangForTests (step: StopStep): Promise<void> {
  if (process.env.VMPLANT_TEST_STOP_HANG === step) await new Promise<never>(() => { setInterval(() => {}, 60_000) })
}
