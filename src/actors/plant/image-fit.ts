import type { ImageCatalog } from '../../images/index.js'
import type { AbortOptions, BidCall, Clock } from '../../interface/index.js'
import type { CompiledRequest } from '../../planner/index.js'
import { callRequest, fetchPrice, fitOf, type CostRequest, type ImageFetch, type ImageFetchConfig } from '../../pricing/index.js'
import type { PeerImages } from './ports.js'

/**
 * How well this plant's warehouse serves a call, from the DAG's shape and identities the call
 * carries (no scripts): the image part of a bid. Empty when the call has no DAG. With `peers`, a
 * plant that holds no admissible image looks for a peer's (as production will, `findGolden`) and
 * prices its transfer: bytes over the measured (else configured) link speed.
 */
export async function imageFit (warehouse: Pick<ImageCatalog, 'index'>, lineKind: string, call: BidCall, peers?: { images: Pick<PeerImages, 'quote'>, config: ImageFetchConfig, clock: Pick<Clock, 'sleep'> }, options: AbortOptions = {}): Promise<Pick<CostRequest, 'image'>> {
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
  return { id: quote.id, peer: quote.peer, saves: quote.saves, bytes: quote.bytes, ...fetchPrice(quote, peers.config) }
}
