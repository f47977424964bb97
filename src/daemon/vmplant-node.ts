import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { randomInt } from 'node:crypto'
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
import { plantStore, type LevelStore } from '../store/index.js'
import { createLine } from './create-line.js'
import type { HostNetworks, Inbox, LineProgress, ProductionLine } from '../interface/index.js'
import type { NodeConfig } from './config.js'
import { createBids, createLoad, createProtocols, serveProtocols, type DroppedMessage, createVnet, type NodeProtocols, type VnetParts } from './wiring.js'
import type { VnetService } from '../net/tunnels/vnet/index.js'
import { BootstrapDialer } from './bootstrap.js'
import { imageNetwork } from '../net/protocols/image/index.js'
import { imageCatalog, imageFetchProgress, peerImages, type PeerImages } from '../images/index.js'
import { plantComponents, plantNetworks, type PlantParts } from './plant-components.js'
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
  /** the node's name in its logs */
  private readonly name: string
  private started = false
  /** Prometheus metrics, when the config has `metrics` */
  metrics?: NodeMetrics
  private metricsServer?: MetricsServer

  constructor (readonly config: NodeConfig, private readonly options: VmplantNodeOptions = {}) {
    this.name = options.name ?? 'node'
    this.log = logger(`vmplant:${this.name}`)
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
    const libp2p = this.libp2p = await this.createLibp2p()
    const clock = this.options.clock ?? systemClock
    const metrics = this.metrics = config.metrics !== undefined ? new NodeMetrics() : undefined
    const system = this.system = this.createSystem(clock)
    const roles = { plant: config.roles.includes('plant'), broker: config.roles.includes('broker'), shop: config.roles.includes('shop') }
    const bids = this.bids = createBids(libp2p, roles, config.site, this.inbox, this.log, this.dropped)
    const protocols = createProtocols(libp2p, clock, { maxRequestsPerConnection: config.maxRequestsPerConnection })
    // a plant behind a broker reports its load to it; a broker prices its site's calls from the reports
    const load = this.load = config.site !== undefined && (roles.plant || roles.broker) ? createLoad(libp2p, roles, config.site, this.inbox, this.log, this.dropped) : undefined
    const transport = new Libp2pTransport(libp2p, { bids, ...protocols, load })

    if (config.roles.includes('plant')) {
      const plant = await system.spawn('plant', plantBehavior(plantComponents(config, await this.startPlantParts(libp2p), transport, this.log)))
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
    await this.startServing(libp2p, clock, { bids, load, protocols })
  }

  private async createLibp2p (): Promise<VmplantLibp2p> {
    const { config } = this
    await mkdir(config.dataDir, { recursive: true })
    const privateKey = await loadOrCreateKey(config.keyFile ?? join(config.dataDir, 'node.key'))
    const dhtMode = config.dht ?? (config.roles.some((r) => r === 'shop' || r === 'broker') ? 'server' : 'client')
    return await createNode({ privateKey, listen: config.listen, logPrefix: `vmplant:${this.name}`, dhtMode, federation: await federationOf(config), scoredTopics: scoredTopicsOf(config.site) })
  }

  private createSystem (clock: Clock): ActorSystem {
    const onExhausted = (error: Error): void => {
      this.log.error('%s', error.message)
      if (this.options.onFatal !== undefined) this.options.onFatal(error)
      else this.stop().catch((err) => { this.log.error('stop after a fatal actor failure failed: %e', err) })
    }
    const trace = this.options.trace
    return new ActorSystem({ clock, random: seededRandom(randomInt(2 ** 31)), logPrefix: `vmplant:${this.name}`, onExhausted, ...(trace !== undefined ? { trace } : {}) })
  }

  /** The plant's store, line and golden images, each kept on the node as it starts, so that a failed start stops what started. */
  private async startPlantParts (libp2p: VmplantLibp2p): Promise<PlantParts> {
    const { config } = this
    const store = this.store = plantStore(join(config.dataDir, 'store'))
    await store.start()
    const line = this.line = this.options.line ?? createLine(config.plant.driver, join(config.dataDir, 'line'), { ...(this.options.onLineProgress !== undefined ? { onProgress: this.options.onLineProgress } : {}) })
    await line.start()
    const fingerprint = await line.fingerprint()
    if (!fingerprint.healthy) throw new LineUnhealthyError(`the ${line.kind} production line cannot run here: ${fingerprint.detail}`)
    this.log('%s line: %s (%s)', line.kind, fingerprint.version, fingerprint.acceleration)
    // a line that imports goldens (QEMU: onto its tmpfs golden folder) says so; other lines clone them from `images/`
    const importers = line.capabilities().goldenImport === true && line.goldenImporter !== undefined ? [line.goldenImporter()] : []
    const catalog = imageCatalog(store.warehouse)
    const logPrefix = `vmplant:${this.name}:images`
    const images = this.images = peerImages({ catalog, network: imageNetwork(libp2p, { logPrefix }), importers }, { dir: join(config.dataDir, 'images'), logPrefix })
    if (this.options.onLineProgress !== undefined) images.onEvent(imageFetchProgress(this.options.onLineProgress))
    const networks = this.networks = plantNetworks(config, line) ?? {}
    return { line, store, catalog, images, networks }
  }

  /** With the actors spawned: the protocols served, libp2p started and the peers dialled, metrics served. */
  private async startServing (libp2p: VmplantLibp2p, clock: Clock, services: { bids: BidsService, load: LoadService | undefined, protocols: NodeProtocols }): Promise<void> {
    const { config } = this
    const { bids, load, protocols } = services
    await bids.start()
    await load?.start()
    await serveProtocols(protocols, this.inbox)
    const store = this.store
    const line = this.line
    const plant = store !== undefined && line !== undefined ? { store, warehouse: store.warehouse, line: line.kind } : undefined
    await statusProtocol({ libp2p }, { allow: config.status?.allow ?? [] }).handle(async (detail, signal) => await nodeStatus({ libp2p, config, ...(plant !== undefined ? { plant } : {}) }, detail, { signal }))
    if (store !== undefined) {
      this.vnet = createVnet(libp2p, clock, store, this.options.vnet ?? {}, this.log, this.actors.plant !== undefined ? this.inbox : undefined)
      await this.vnet.start()
    }
    await libp2p.start()
    await this.images?.start()
    bids.subscribe()
    load?.subscribe()
    this.dialer = new BootstrapDialer(libp2p, config.bootstrap, config.redialMs, this.log)
    this.dialer.start()
    if (this.metrics !== undefined && config.metrics !== undefined) {
      this.metrics.observe({ libp2p, ...(store !== undefined ? { store, warehouse: store.warehouse } : {}), ...(line !== undefined ? { line } : {}) })
      this.metricsServer = new MetricsServer(this.metrics, config.metrics.listen, this.log)
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
