import { chooseImage, compileRequest, type CompiledRequest, type VmSpec, type WarehouseIndex } from '../../planner/index.js'
import type { Warehouse } from '../../store/index.js'
import type { AbortOptions, BidCall, Clock } from '../../interface/index.js'
import type { CostRequest, ImageFetch } from './cost.js'
import type { PeerImages } from './ports.js'

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

/**
 * How well this plant's warehouse serves a call, from the DAG's shape and identities the call
 * carries (no scripts): the image part of a bid. Empty when the call has no DAG. With `peers`, a
 * plant that holds no admissible image looks for a peer's (as production will, `findGolden`) and
 * prices its transfer: bytes over the measured (else configured) link speed.
 */
export async function imageFit (warehouse: Warehouse, lineKind: string, call: BidCall, peers?: { images: Pick<PeerImages, 'quote'>, config: ImageFetchConfig, clock: Pick<Clock, 'sleep'> }, options: AbortOptions = {}): Promise<Pick<CostRequest, 'image'>> {
  if (call.dag === undefined) return {}
  const request = callRequest(call)
  const fit = fitOf(request, await warehouse.index(lineKind), call)
  if (peers === undefined || request === undefined || fit.image === undefined || fit.image.local) return fit
  const fetch = await fetchOf(peers, request, lineKind, Math.min(peers.config.lookupMs, call.windowMs / 2), options)
  if (fetch === undefined) return fit
  return { image: { saves: fetch.saves, remaining: call.dag.length - fetch.saves, local: false, fetch } }
}

/** The fetch a production would make, priced; undefined when the DHT names no image in time. */
async function fetchOf (peers: { images: Pick<PeerImages, 'quote'>, config: ImageFetchConfig, clock: Pick<Clock, 'sleep'> }, request: CompiledRequest, lineKind: string, waitMs: number, options: AbortOptions): Promise<ImageFetch & { saves: number } | undefined> {
  // the wait is on the plant's clock, so a bid under virtual time gives up in virtual time
  const deadline = new AbortController()
  const signal = AbortSignal.any([deadline.signal, ...(options.signal !== undefined ? [options.signal] : [])])
  void peers.clock.sleep(Math.max(1, waitMs), { signal }).then(() => { deadline.abort(new Error(`no image quote within ${waitMs} ms`)) }, () => {})
  const quote = await peers.images.quote(request, lineKind, { signal }).catch(() => undefined)
  deadline.abort()
  if (quote === undefined) return undefined
  const measured = quote.measuredBytesPerSecond
  const bytesPerSecond = measured ?? peers.config.bytesPerSecond
  const seconds = quote.bytes / bytesPerSecond
  return { id: quote.id, peer: quote.peer, saves: quote.saves, bytes: quote.bytes, bytesPerSecond, measured: measured !== undefined, cost: Math.round(seconds * peers.config.costPerSecond) }
}

/** The call's DAG as the planner matches it; undefined when the call has none or it is not a DAG. */
export function callRequest (call: BidCall): CompiledRequest | undefined {
  if (call.dag === undefined) return undefined
  // a peer's DAG is checked like any input: unique ids and edges to known actions, or no image part
  const ids = new Set(call.dag.map((a) => a.id))
  if (ids.size !== call.dag.length || call.dag.some((a) => a.after.some((d) => !ids.has(d)))) return undefined
  const shape: VmSpec = {
    hardware: { ...call.hardware },
    actions: call.dag.map((a) => ({ id: a.id, type: 'guest', run: a.identity, after: a.after, exports: [] })),
    concurrent: false
  }
  try {
    return compileRequest(shape, call.dag.map((a) => a.identity))
  } catch {
    return undefined
  }
}

/** The image part of a bid for a request compiled once (a broker prices it for many plants). */
export function fitOf (request: CompiledRequest | undefined, index: WarehouseIndex, call: BidCall): Pick<CostRequest, 'image'> {
  if (request === undefined || call.dag === undefined) return {}
  const plan = chooseImage(request, index)
  return { image: { saves: plan?.cloned.length ?? 0, remaining: plan?.remaining.length ?? call.dag.length, local: plan !== undefined } }
}
