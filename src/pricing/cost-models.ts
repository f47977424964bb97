import type { Random } from '../interface/index.js'
import { DEFAULT_MAX_RANDOM_COST, WARM_DEFAULTS, type CostConfig } from './cost-config.js'

/** What a cost model sees of the plant when it prices a request. */
export interface PlantLoad {
  runningVms: number
  /** domains that already have a host-only network here */
  domains: ReadonlySet<string>
  networksInUse: number
  /** host memory promised to VMs, in MB */
  memoryUsedMB: number
  /** host memory the plant may give to VMs, in MB */
  memoryCapacityMB: number
  /** memory the host has free right now, in MB, when the plant measures it */
  hostFreeMB?: number
  /** the plant makes no host-only networks (why): no network is charged or limited, and the bid says so */
  networkless?: string
}

export interface CostRequest {
  domain: string
  /** what the VM will cost the host, in MB */
  memoryMB: number
  /**
   * how the plant's best golden image serves the request: actions it saves, actions left; with
   * `fetch`, the image is a peer's that the plant would fetch first; absent when unknown
   */
  image?: { saves: number, remaining: number, local: boolean, fetch?: ImageFetch }
}

/** A peer's golden image a plant would fetch before the clone, priced by its transfer time. */
export interface ImageFetch {
  id: string
  peer: string
  bytes: number
  /** the link speed used: measured on earlier transfers, else the configured one */
  bytesPerSecond: number
  measured: boolean
  /** bytes / bytesPerSecond x the price of a second (`plant.imageFetch.costPerSecond`) */
  cost: number
}

export type CostVerdict = { bid: true, cost: number, reason: string } | { bid: false, reason: string }

/** Prices a request; a plant that cannot host the VM does not bid. */
export type CostModel = (load: PlantLoad, request: CostRequest) => CostVerdict

/** What a cost model may need besides its config. */
export interface CostModelComponents {
  /** the seeded source the random model draws from; required by that model only */
  random?: Random
}

/** The limits every model shares: VM slots, host-only networks and memory. */
function capacityProblem (config: CostConfig, load: PlantLoad, request: CostRequest): string | undefined {
  if (load.runningVms >= config.maxVms) return `all ${config.maxVms} VM slots are taken`
  if (load.networkless === undefined && !load.domains.has(request.domain) && load.networksInUse >= config.maxNetworks) return `all ${config.maxNetworks} host-only networks are taken by other domains`
  const free = load.memoryCapacityMB - load.memoryUsedMB
  if (request.memoryMB > free) return `needs ${request.memoryMB} MB, ${Math.max(0, free)} MB free`
  if (load.hostFreeMB !== undefined && request.memoryMB > load.hostFreeMB) return `needs ${request.memoryMB} MB, the host has ${load.hostFreeMB} MB free`
  return undefined
}

/** How a bid says that the VM would have no domain network; empty when it would have one. */
function networklessReason (load: PlantLoad): string {
  return load.networkless !== undefined ? `, network: none (${load.networkless})` : ''
}

/** The image part of a bid: 0 with the default constants, so the paper's models are unchanged. */
function imageCost (config: CostConfig, request: CostRequest): { cost: number, reason: string } {
  if (request.image === undefined) return { cost: 0, reason: '' }
  const { saves, remaining, local, fetch } = request.image
  const actions = (config.actionCost ?? 0) * remaining
  if (!local && fetch !== undefined) {
    // a known peer image replaces noImageCost: its transfer is the one-time work
    const mb = (n: number): string => (n / 1e6).toFixed(n < 1e7 ? 1 : 0)
    const what = `fetches golden image ${fetch.id.slice(-8)} from ${fetch.peer.slice(-8)} (${mb(fetch.bytes)} MB at ${mb(fetch.bytesPerSecond)} MB/s ${fetch.measured ? 'measured' : 'configured'}): ${fetch.cost}, saves ${saves}, ${remaining} to run`
    return { cost: fetch.cost + actions, reason: `, ${what}${actions > 0 ? `: ${actions}` : ''}` }
  }
  const cost = (local ? 0 : config.noImageCost ?? 0) + actions
  const what = local ? `golden image saves ${saves}, ${remaining} to run` : `no golden image here, ${remaining} to run`
  return { cost, reason: cost > 0 ? `, ${what}: ${cost}` : `, ${what}` }
}

/** Section 3.4: cost = computeCost x VMs running here, plus networkCost when the domain has no network here yet. */
export function paperCost (config: CostConfig): CostModel {
  return (load, request) => {
    const problem = capacityProblem(config, load, request)
    if (problem !== undefined) return { bid: false, reason: problem }
    const compute = config.computeCost * load.runningVms
    const network = load.networkless !== undefined || load.domains.has(request.domain) ? 0 : config.networkCost
    const image = imageCost(config, request)
    const networkReason = load.networkless !== undefined ? networklessReason(load) : network > 0 ? `, new host-only network ${network}` : `, reuses ${domainName(request.domain)}'s network`
    return {
      bid: true,
      cost: compute + network + image.cost,
      reason: `compute ${config.computeCost} x ${load.runningVms} VMs = ${compute}` + networkReason + image.reason
    }
  }
}

/** Section 4.1: the cost is the share of host memory the plant would have in use after this VM, x 1000. */
export function memoryCost (config: CostConfig): CostModel {
  return (load, request) => {
    const problem = capacityProblem(config, load, request)
    if (problem !== undefined) return { bid: false, reason: problem }
    const after = load.memoryUsedMB + request.memoryMB
    const image = imageCost(config, request)
    const cost = Math.round(1000 * after / load.memoryCapacityMB) + image.cost
    return { bid: true, cost, reason: `${after} of ${load.memoryCapacityMB} MB in use after this VM${image.reason}${networklessReason(load)}` }
  }
}

/**
 * Warm-image-aware: the paper's cost, plus noImageCost when the plant has no admissible golden
 * image and actionCost per action its best image leaves to run (WARM_DEFAULTS unless the config
 * says otherwise). A plant that already holds the request's prefix as a golden image makes the VM
 * sooner and says so in its bid. Where the call carries no DAG (or at order time) nothing is added.
 */
export function warmCost (config: CostConfig): CostModel {
  return paperCost({ ...config, noImageCost: config.noImageCost ?? WARM_DEFAULTS.noImageCost, actionCost: config.actionCost ?? WARM_DEFAULTS.actionCost })
}

/**
 * A baseline that ignores the load: a whole number from 0 to maxRandomCost, drawn from the seeded
 * `random` (never Math.random, so a simulation replays). The shared limits still hold: a plant
 * that cannot host the VM does not bid.
 */
export function randomCost (config: CostConfig, random: Random): CostModel {
  return (load, request) => {
    const problem = capacityProblem(config, load, request)
    if (problem !== undefined) return { bid: false, reason: problem }
    const max = config.maxRandomCost ?? DEFAULT_MAX_RANDOM_COST
    const cost = random.int(max + 1)
    return { bid: true, cost, reason: `random bid ${cost} of 0..${max}` + networklessReason(load) }
  }
}

export function costModel (config: CostConfig, components: CostModelComponents = {}): CostModel {
  switch (config.model) {
    case 'paper': return paperCost(config)
    case 'memory': return memoryCost(config)
    case 'warm': return warmCost(config)
    case 'random': {
      if (components.random === undefined) throw new TypeError('the random cost model needs a seeded random source (costModel(config, { random }))')
      return randomCost(config, components.random)
    }
    default: {
      const unknown: never = config.model
      throw new Error(`unknown cost model ${String(unknown)}`)
    }
  }
}

/** the name a client gave its domain, from the plant's `name/key` id, for bid reasons */
function domainName (domainId: string): string {
  const slash = domainId.indexOf('/')
  return slash < 0 ? domainId : domainId.slice(0, slash)
}
