import type { Random } from '../runtime/index.js'
import type { BidCall, LoadReport, PeerRef } from '../../interface/index.js'
import { indexWarehouse, type CompiledRequest, type GoldenDescriptor, type WarehouseIndex } from '../../planner/index.js'
import { costConfigSchema, costModel, fitOf, priceCall, type CostConfig, type CostVerdict, type PlantLoad } from '../../pricing/index.js'

/** What the broker keeps of one plant: its last report, ready to price with. */
export interface CachedPlant {
  ref: PeerRef
  report: LoadReport
  /** on the broker's clock: the report is relied on until then */
  expiresAt: number
  cost: CostConfig
  load: PlantLoad
  index: WarehouseIndex
  /** the images' ids, to rebuild the index only when they change */
  imagesKey: string
}

/** The site's plants by peer id, as their load reports say. */
export type LoadCache = Map<string, CachedPlant>

/**
 * Takes a report in: a report older than the one kept (an earlier run of the plant, or an earlier
 * sequence number) changes nothing. Returns why a report was refused, or undefined.
 */
export function noteReport (cache: LoadCache, report: LoadReport, now: number): string | undefined {
  const known = cache.get(report.plant)
  if (known !== undefined && (report.epoch < known.report.epoch || (report.epoch === known.report.epoch && report.seq <= known.report.seq))) return undefined
  const parsed = costConfigSchema.safeParse(report.cost)
  if (!parsed.success) return `plant ${report.plant} bids with a cost model this broker cannot price (${parsed.error.issues[0]?.message ?? 'invalid'})`
  const imagesKey = report.images.map((i) => i.id).join(',')
  const index = known !== undefined && known.imagesKey === imagesKey
    ? known.index
    : indexWarehouse(report.images.map((i) => ({ id: i.id, cloneCost: i.cloneCost, descriptor: descriptorOf(report.line.kind, i) })))
  const { load } = report
  cache.set(report.plant, {
    ref: { peer: report.plant, addrs: [] },
    report,
    expiresAt: now + report.ttlMs,
    cost: parsed.data,
    load: {
      runningVms: load.runningVms,
      domains: new Set(load.domains),
      networksInUse: load.domains.length,
      memoryUsedMB: load.memoryUsedMB,
      memoryCapacityMB: load.memoryCapacityMB,
      ...(load.hostFreeMB !== undefined ? { hostFreeMB: load.hostFreeMB } : {})
    },
    index,
    imagesKey
  })
  return undefined
}

/** The plants whose reports still hold; the others are forgotten, as dead, until they report again. */
export function livePlants (cache: LoadCache, now: number): CachedPlant[] {
  const live: CachedPlant[] = []
  for (const [peer, plant] of cache) {
    if (plant.expiresAt < now) cache.delete(peer)
    else live.push(plant)
  }
  return live
}

/**
 * What the plant would bid, from its report: the plant's own pricing (`priceCall`), its cost
 * model built from the config it reported, and the image part from the images it reported.
 */
export function estimate (plant: CachedPlant, call: BidCall, request: CompiledRequest | undefined, random: Random): CostVerdict {
  const { line } = plant.report
  return priceCall({
    lineKind: line.kind,
    capabilities: line,
    memoryCostMB: (memoryMB) => memoryMB + line.overheadMB,
    cost: costModel(plant.cost, { random }),
    load: plant.load
  }, call, fitOf(request, plant.index, call))
}

/**
 * A descriptor as far as the matcher reads one (hardware and applied actions); the artifacts stay
 * with the plant, and `id` and `cloneCost` are the plant's own.
 */
function descriptorOf (line: string, image: LoadReport['images'][number]): GoldenDescriptor {
  return { format: 'vmplant.golden/1', line, hardware: image.hardware, applied: image.applied, artifacts: [] }
}
