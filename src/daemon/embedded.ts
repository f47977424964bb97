import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VmplantNode } from './vmplant-node.js'
import { defaultGoldenShmDir } from './create-line.js'
import { validateNodeConfig, type NodeConfig } from './config.js'
import type { LineProgress, ProductionLine } from '../hypervisor/index.js'
import type { Clock, Message, TaskOutcome } from '../actors/runtime/index.js'
import type { PlantMessage } from '../actors/plant/messages.js'

/** What a plant's learning round after a create came to: the image it built, if any, or why it failed. */
export type LearningOutcome = TaskOutcome<{ learned?: string, evicted: string[] }>

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
  /** sees the steps of each plant's line's long work (a golden image's build); `plant` is its name, plant-<i> */
  onLineProgress?: (plant: string, event: LineProgress) => void
}

export interface EmbeddedFederation {
  shop: VmplantNode
  plants: VmplantNode[]
  /** the shop's multiaddr, with /p2p/<id> */
  shopAddr: string
  /** waits until the shop sees every plant subscribed to the call for bids */
  ready(options?: { signal?: AbortSignal }): Promise<void>
  /**
   * The outcome of the plant's `round`-th learning round (1 for the one after its first create;
   * plants learn only with `plant.learning`), waited for until it comes or `signal` aborts.
   */
  learningRound(plant: string, round: number, options?: { signal?: AbortSignal }): Promise<LearningOutcome>
  /** `plant-<i>`, the name its line progress goes under, for a plant's peer id; undefined for another peer */
  plantName(peer: string): string | undefined
  stop(): Promise<void>
}

/** A whole federation in one process, on 127.0.0.1: one shop and N plants bootstrapped to it. */
export async function startEmbeddedFederation (init: EmbeddedInit): Promise<EmbeddedFederation> {
  const ownDir = init.dataDir === undefined
  const base = init.dataDir ?? await mkdtemp(join(tmpdir(), 'vmplant-'))
  const nodes: VmplantNode[] = []
  const learning = new LearningRounds()
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
      }), {
        name: `plant-${i}`,
        trace: (_actor, message) => { learning.see(plant, message) },
        ...(init.line !== undefined ? { line: init.line } : {}),
        ...(init.clock !== undefined ? { clock: init.clock } : {}),
        ...(init.onLineProgress !== undefined ? { onLineProgress: (event: LineProgress) => { init.onLineProgress?.(`plant-${i}`, event) } } : {})
      })
      nodes.push(plant)
      plants.push(plant)
    }
    await Promise.all(plants.map(async (p) => p.start()))
    return {
      shop,
      plants,
      shopAddr,
      ready: async (options = {}) => { await waitForBidders(shop, plants.map((p) => p.peerId), options.signal ?? AbortSignal.timeout(30_000)) },
      learningRound: async (plant, round, options = {}) => await learning.wait(plant, round, options.signal),
      plantName: (peer) => {
        const i = plants.findIndex((p) => p.peerId === peer)
        return i >= 0 ? `plant-${i}` : undefined
      },
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/** A traced message that is the plant's end of a learning round (no other actor of a plant node sends this type). */
function isLearningDone (message: Message): message is Extract<PlantMessage, { type: 'learning.done' }> {
  return message.type === 'learning.done'
}

/** Each plant's learning outcomes in order, kept from the start so that none is missed. */
class LearningRounds {
  private readonly outcomes = new Map<string, LearningOutcome[]>()
  private readonly waiters = new Set<() => void>()

  see (plant: VmplantNode, message: Message): void {
    if (!isLearningDone(message)) return
    const peer = plant.peerId
    this.outcomes.set(peer, [...(this.outcomes.get(peer) ?? []), message.outcome])
    for (const wake of this.waiters) wake()
  }

  async wait (plant: string, round: number, signal: AbortSignal = AbortSignal.timeout(120_000)): Promise<LearningOutcome> {
    for (;;) {
      const outcome = this.outcomes.get(plant)?.[round - 1]
      if (outcome !== undefined) return outcome
      signal.throwIfAborted()
      await new Promise<void>((resolve) => {
        const done = (): void => { this.waiters.delete(done); signal.removeEventListener('abort', done); resolve() }
        this.waiters.add(done)
        signal.addEventListener('abort', done)
      })
    }
  }
}

/**
 * Resolves once the shop's call for bids reaches each of `peers` (or, given a number, that many
 * peers): they subscribed, and gossipsub's stream to them is open.
 */
export async function waitForBidders (shop: VmplantNode, peers: string[] | number, signal: AbortSignal): Promise<void> {
  if (shop.libp2p === undefined) throw new Error('shop is not started')
  const has = (): boolean => {
    const bidders = new Set(shop.bidders())
    return typeof peers === 'number' ? bidders.size >= peers : peers.every((p) => bidders.has(p))
  }
  while (!has()) {
    signal.throwIfAborted()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
