import { chooseImage, type CompiledRequest, type WarehouseIndex } from '../planner/index.js'
import type { BidCall } from '../interface/index.js'
import type { CostRequest, ImageFetch } from './cost-models.js'

/** How a bid prices fetching a peer's golden image (`plant.imageFetch` in the node's config). */
export interface ImageFetchConfig {
  /** the link speed assumed until a transfer has been measured, bytes per second; @default 12500000 (100 Mbit/s) */
  bytesPerSecond: number
  /** the bid's cost of one second of transfer; @default 1 */
  costPerSecond: number
  /** how long a bid waits for the DHT, in ms (and at most half the call's window); @default 1000 */
  lookupMs: number
}

export const IMAGE_FETCH_DEFAULTS: ImageFetchConfig = { bytesPerSecond: 12_500_000, costPerSecond: 1, lookupMs: 1000 }

/** The image part of a bid for a request compiled once (a broker prices it for many plants). */
export function fitOf (request: CompiledRequest | undefined, index: WarehouseIndex, call: BidCall): Pick<CostRequest, 'image'> {
  if (request === undefined || call.dag === undefined) return {}
  const plan = chooseImage(request, index)
  return { image: { saves: plan?.cloned.length ?? 0, remaining: plan?.remaining.length ?? call.dag.length, local: plan !== undefined } }
}

/**
 * The price of moving a peer's image: its bytes over the measured link speed (else the configured
 * one), times the price of a second.
 */
export function fetchPrice (transfer: { bytes: number, measuredBytesPerSecond?: number | undefined }, config: Pick<ImageFetchConfig, 'bytesPerSecond' | 'costPerSecond'>): Pick<ImageFetch, 'bytesPerSecond' | 'measured' | 'cost'> {
  const measured = transfer.measuredBytesPerSecond
  const bytesPerSecond = measured ?? config.bytesPerSecond
  const seconds = transfer.bytes / bytesPerSecond
  return { bytesPerSecond, measured: measured !== undefined, cost: Math.round(seconds * config.costPerSecond) }
}
