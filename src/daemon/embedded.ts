import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VmplantNode } from './vmplant-node.js'
import { defaultGoldenShmDir } from './create-line.js'
import { BID_TOPIC } from '../net/protocols.js'
import { validateNodeConfig, type NodeConfig } from './config.js'
import type { ProductionLine } from '../hypervisor/index.js'
import type { Clock, Message } from '../actors/runtime/index.js'

export interface EmbeddedInit {
  plants: number
  /** extra config for every plant (cost model, driver, memory) */
  plant?: Partial<NodeConfig['plant']>
  shop?: Partial<NodeConfig['shop']>
  /** where the nodes keep their stores; @default a new temporary folder, removed at stop */
  dataDir?: string
  /** a production line shared by all plants, instead of one per plant from the config */
  line?: ProductionLine
  clock?: Clock
  /** sees every message to the shop's actors */
  shopTrace?: (actor: string, message: Message) => void
  /** TCP port of the shop; @default 0 (any) */
  shopPort?: number
}

export interface EmbeddedFederation {
  shop: VmplantNode
  plants: VmplantNode[]
  /** the shop's multiaddr, with /p2p/<id> */
  shopAddr: string
  /** waits until the shop sees every plant subscribed to the call for bids */
  ready(options?: { signal?: AbortSignal }): Promise<void>
  stop(): Promise<void>
}

/** A whole federation in one process, on 127.0.0.1: one shop and N plants bootstrapped to it. */
export async function startEmbeddedFederation (init: EmbeddedInit): Promise<EmbeddedFederation> {
  const ownDir = init.dataDir === undefined
  const base = init.dataDir ?? await mkdtemp(join(tmpdir(), 'vmplant-'))
  const nodes: VmplantNode[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map(async (n) => n.stop({ destroyVms: true })))
    if (!ownDir) return
    await rm(base, { recursive: true, force: true })
    // golden RAM files live on tmpfs, outside the base folder
    for (const node of nodes) {
      const driver = node.config.plant.driver
      if (node.config.roles.includes('plant') && driver.kind === 'qemu' && driver.goldenDir === undefined) await rm(defaultGoldenShmDir(join(node.config.dataDir, 'line')), { recursive: true, force: true })
    }
  }
  try {
    const shop = new VmplantNode(validateNodeConfig({
      roles: ['shop'],
      listen: [`/ip4/127.0.0.1/tcp/${init.shopPort ?? 0}`],
      dataDir: join(base, 'shop'),
      shop: init.shop ?? {}
    }), { name: 'shop', ...(init.clock !== undefined ? { clock: init.clock } : {}), ...(init.shopTrace !== undefined ? { trace: init.shopTrace } : {}) })
    nodes.push(shop)
    await shop.start()
    const shopAddr = shop.multiaddrs[0] as string
    const plants: VmplantNode[] = []
    for (let i = 0; i < init.plants; i++) {
      const plant = new VmplantNode(validateNodeConfig({
        roles: ['plant'],
        listen: ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: [shopAddr],
        dataDir: join(base, `plant-${i}`),
        plant: init.plant ?? {}
      }), { name: `plant-${i}`, ...(init.line !== undefined ? { line: init.line } : {}), ...(init.clock !== undefined ? { clock: init.clock } : {}) })
      nodes.push(plant)
      plants.push(plant)
    }
    await Promise.all(plants.map(async (p) => p.start()))
    return {
      shop,
      plants,
      shopAddr,
      ready: async (options = {}) => { await waitForBidders(shop, plants.map((p) => p.peerId), options.signal ?? AbortSignal.timeout(30_000)) },
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/**
 * Resolves once the shop sees each of `peers` (or, given a number, that many peers) subscribed to
 * the federation's call for bids.
 */
export async function waitForBidders (shop: VmplantNode, peers: string[] | number, signal: AbortSignal): Promise<void> {
  const pubsub = shop.libp2p?.services.pubsub
  if (pubsub === undefined) throw new Error('shop is not started')
  const has = (): boolean => {
    const subs = new Set(pubsub.getSubscribers(BID_TOPIC).map((p) => p.toString()))
    return typeof peers === 'number' ? subs.size >= peers : peers.every((p) => subs.has(p))
  }
  while (!has()) {
    signal.throwIfAborted()
    await new Promise<void>((resolve) => {
      const done = (): void => { pubsub.removeEventListener('subscription-change', done); clearTimeout(timer); resolve() }
      const timer = setTimeout(done, 250)
      pubsub.addEventListener('subscription-change', done)
    })
  }
}
