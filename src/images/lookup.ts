import { setMaxListeners } from 'node:events'
import type { Logger } from '@libp2p/logger'
import { chooseImage, compileRequest, indexWarehouse, verifyDescriptor, type CompiledRequest, type GoldenDescriptor, type VmSpec } from '../planner/index.js'
import type { ImageNetwork } from '../interface/index.js'
import { prefixKey } from './keys.js'

/** An image a peer holds that would serve the request. */
export interface RemoteCandidate {
  /** the holder's peer id */
  peer: string
  /** the image's id (its descriptor's CID) */
  id: string
  /** checked against `id` with `verifyDescriptor` */
  descriptor: GoldenDescriptor
  /** how many of the request's actions it already has */
  saves: number
}

export interface LookupContext {
  network: ImageNetwork
  log: Logger
  /** time limit of one search: all its DHT lookups and listings */
  lookupTimeoutMs: number
  /** providers asked per lookup */
  maxPeers: number
  /** how many of the longest prefixes are looked up besides the empty one */
  prefixProbes: number
  /** how long a lookup's result is reused, in ms */
  cacheMs: number
  /** DHT key -> providers found, and until when to believe it */
  cache: Map<string, { until: number, peers: string[] }>
}

/**
 * Peers that hold an image saving at least `minSaves` of the request's actions, best first.
 *
 * Which keys are looked up: the request's own topological order gives prefixes p0 (empty) ..
 * pn. A plant holding an image applied in that order provides the key of each of its
 * prefixes, so the longest prefix with a provider names the best image of that order. The
 * `prefixProbes` longest prefixes (lengths n, n-1, ..., none shorter than `minSaves`) and the
 * empty prefix are looked up at once, so a search costs one DHT lookup's latency (a few
 * hundred ms among 20 plants) rather than one per length. The longest prefix with providers
 * wins; when none has any, the empty prefix's providers (every holder of an image of this
 * line and hardware) are used, which also finds shorter prefixes and images applied in
 * another order the request admits. The chosen providers are asked for their images under
 * that key; each descriptor is verified against its id and matched with the planner's three
 * tests, as a local image would be. Providers found are cached for `cacheMs` (none found is not), and the whole search has
 * one deadline, so a production waits on the DHT at most that long.
 */
export async function lookupCandidates (context: LookupContext, spec: VmSpec | CompiledRequest, lineKind: string, minSaves: number, options: { signal?: AbortSignal } = {}): Promise<RemoteCandidate[]> {
  options.signal?.throwIfAborted()
  if (context.network.dhtPeers() === 0) return []
  // a bid has the call's shape and identities only, compiled by the caller
  const request = 'groupOf' in spec ? spec : compileRequest(spec)
  const order = request.order.map((i) => request.identities[i] as string)
  const search = { signal: options.signal, deadline: searchDeadline(context, options) }
  const lengths: number[] = []
  for (let length = order.length; length >= Math.max(1, minSaves) && lengths.length < context.prefixProbes; length--) lengths.push(length)
  lengths.push(0)
  const probes = await Promise.all(lengths.map(async (length) => {
    const key = prefixKey(lineKind, request.spec.hardware, order.slice(0, length)).toString()
    return { key, peers: await cachedProviders(context, key, search) }
  }))
  const found = probes.find((p) => p.peers.length > 0)
  if (found === undefined) return []
  context.log('%d peers provide %s for a request of %d actions', found.peers.length, found.key, order.length)
  const answers = await Promise.all(found.peers.map(async (peer) => await imagesOf(context, peer, found.key, request, lineKind, search)))
  return rankCandidates(answers.flat().filter((c) => c.saves >= minSaves))
}

/** Best first: the most actions saved, then the fewest bytes to move, then by id (so every plant ranks alike). */
export function rankCandidates (candidates: RemoteCandidate[]): RemoteCandidate[] {
  return [...candidates].sort((a, b) => b.saves - a.saves || bytesOf(a) - bytesOf(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** `findProviders` through the context's cache; a lookup cut short by the deadline is not cached. */
async function cachedProviders (context: LookupContext, key: string, options: SearchOptions): Promise<string[]> {
  const now = Date.now()
  const cached = context.cache.get(key)
  if (cached !== undefined && cached.until > now) return cached.peers
  const peers = await findProviders(context, key, options)
  // "nobody" is not kept: bids look up before any plant has an image, and the first holder must be found at once
  if (!options.deadline.aborted && context.cacheMs > 0 && peers.length > 0) {
    context.cache.delete(key)
    context.cache.set(key, { until: now + context.cacheMs, peers })
    // Map order is insertion order: the oldest entry goes first
    if (context.cache.size > MAX_CACHED) context.cache.delete(context.cache.keys().next().value as string)
  }
  return peers
}

const MAX_CACHED = 1024

/** The deadline of one search; every DHT query of it listens to it, so the listener limit is lifted as kad-dht does for its own. */
export function searchDeadline (context: Pick<LookupContext, 'lookupTimeoutMs'>, options: { signal?: AbortSignal } = {}): AbortSignal {
  const deadline = AbortSignal.any([AbortSignal.timeout(context.lookupTimeoutMs), ...(options.signal !== undefined ? [options.signal] : [])])
  setMaxListeners(Infinity, deadline)
  return deadline
}

/** `signal`: the caller's, whose abort is thrown; `deadline`: the search's, whose expiry ends it with what it found. */
export interface SearchOptions { signal?: AbortSignal | undefined, deadline: AbortSignal }

/** Up to `maxPeers` providers of `key` other than this node; a lookup past the deadline finds none. */
export async function findProviders (context: Pick<LookupContext, 'network' | 'log' | 'maxPeers'>, key: string, options: SearchOptions): Promise<string[]> {
  options.signal?.throwIfAborted()
  const signal = options.deadline
  if (signal.aborted) return []
  const peers = new Set<string>()
  try {
    for await (const peer of context.network.providers(key, { signal })) {
      peers.add(peer)
      if (peers.size >= context.maxPeers) break
    }
  } catch (err: unknown) {
    options.signal?.throwIfAborted()
    context.log('lookup of %s ended early: %s', key, err instanceof Error ? err.message : String(err))
  }
  return [...peers].slice(0, context.maxPeers)
}

/** The peer's images under `key` that the request admits; a peer that fails or lies is skipped. */
async function imagesOf (context: LookupContext, peer: string, key: string, request: CompiledRequest, lineKind: string, options: SearchOptions): Promise<RemoteCandidate[]> {
  let images
  try {
    images = await context.network.list(peer, key, { signal: options.deadline })
  } catch (err: unknown) {
    options.signal?.throwIfAborted()
    context.log('%s did not list its images under %s: %s', peer, key, err instanceof Error ? err.message : String(err))
    return []
  }
  const candidates: RemoteCandidate[] = []
  for (const entry of images) {
    let descriptor: GoldenDescriptor
    try {
      descriptor = verifyDescriptor(entry.descriptor, entry.id)
    } catch (err: unknown) {
      context.log('%s sent a bad descriptor for %s: %s', peer, entry.id, err instanceof Error ? err.message : String(err))
      continue
    }
    if (descriptor.line !== lineKind) continue
    const plan = chooseImage(request, indexWarehouse([{ id: entry.id, descriptor }]))
    if (plan !== undefined) candidates.push({ peer, id: entry.id, descriptor, saves: plan.cloned.length })
  }
  return candidates
}

function bytesOf (candidate: RemoteCandidate): number {
  return candidate.descriptor.artifacts.reduce((sum, a) => sum + a.bytes, 0)
}
