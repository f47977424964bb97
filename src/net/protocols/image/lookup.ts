import { setMaxListeners } from 'node:events'
import type { Libp2p, PeerId, PeerInfo } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Logger } from '@libp2p/logger'
import type { CID } from 'multiformats/cid'
import { chooseImage, compileRequest, indexWarehouse, verifyDescriptor, type CompiledRequest, type GoldenDescriptor, type VmSpec } from '../../../planner/index.js'
import { call } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'
import { prefixKey } from './keys.js'
import { IMAGE_WIRE_LIMITS, imagesAnswerSchema } from './wire.js'

/** The libp2p node the image index needs: one with a kad-dht. */
export type ImagesLibp2p = Libp2p<{ dht: KadDHT }>

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
  libp2p: ImagesLibp2p
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
  cache: Map<string, { until: number, peers: PeerInfo[] }>
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
  const routingTable = (context.libp2p.services.dht as { routingTable?: { size: number } }).routingTable
  if (routingTable !== undefined && routingTable.size === 0) return []
  // a bid has the call's shape and identities only, compiled by the caller
  const request = 'groupOf' in spec ? spec : compileRequest(spec)
  const order = request.order.map((i) => request.identities[i] as string)
  const search = { signal: options.signal, deadline: searchDeadline(context, options) }
  const lengths: number[] = []
  for (let length = order.length; length >= Math.max(1, minSaves) && lengths.length < context.prefixProbes; length--) lengths.push(length)
  lengths.push(0)
  const probes = await Promise.all(lengths.map(async (length) => {
    const key = prefixKey(lineKind, request.spec.hardware, order.slice(0, length))
    return { key, peers: await cachedProviders(context, key, search) }
  }))
  const found = probes.find((p) => p.peers.length > 0)
  if (found === undefined) return []
  const key = found.key.toString()
  context.log('%d peers provide %s for a request of %d actions', found.peers.length, key, order.length)
  const answers = await Promise.all(found.peers.map(async (peer) => await imagesOf(context, peer.id, key, request, lineKind, search)))
  return answers.flat()
    .filter((c) => c.saves >= minSaves)
    .sort((a, b) => b.saves - a.saves || bytesOf(a) - bytesOf(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** `findProviders` through the context's cache; a lookup cut short by the deadline is not cached. */
async function cachedProviders (context: LookupContext, key: CID, options: SearchOptions): Promise<PeerInfo[]> {
  const name = key.toString()
  const now = Date.now()
  const cached = context.cache.get(name)
  if (cached !== undefined && cached.until > now) return cached.peers
  const peers = await findProviders(context, key, options)
  // "nobody" is not kept: bids look up before any plant has an image, and the first holder must be found at once
  if (!options.deadline.aborted && context.cacheMs > 0 && peers.length > 0) {
    context.cache.delete(name)
    context.cache.set(name, { until: now + context.cacheMs, peers })
    // Map order is insertion order: the oldest entry goes first
    if (context.cache.size > MAX_CACHED) context.cache.delete(context.cache.keys().next().value as string)
  }
  return peers
}

const MAX_CACHED = 1024

/** The deadline of one search; every DHT query of it listens to it, so the listener limit is lifted as kad-dht does for its own. */
export function searchDeadline (context: LookupContext, options: { signal?: AbortSignal } = {}): AbortSignal {
  const deadline = AbortSignal.any([AbortSignal.timeout(context.lookupTimeoutMs), ...(options.signal !== undefined ? [options.signal] : [])])
  setMaxListeners(Infinity, deadline)
  return deadline
}

/** `signal`: the caller's, whose abort is thrown; `deadline`: the search's, whose expiry ends it with what it found. */
export interface SearchOptions { signal?: AbortSignal | undefined, deadline: AbortSignal }

/** Up to `maxPeers` providers of `key` other than this node; a lookup past the deadline finds none. */
export async function findProviders (context: LookupContext, key: CID, options: SearchOptions): Promise<PeerInfo[]> {
  options.signal?.throwIfAborted()
  const { libp2p } = context
  const signal = options.deadline
  if (signal.aborted) return []
  const peers = new Map<string, PeerInfo>()
  try {
    for await (const event of libp2p.services.dht.findProviders(key, { signal })) {
      if (event.name !== 'PROVIDER') continue
      for (const peer of event.providers) {
        if (peer.id.equals(libp2p.peerId)) continue
        peers.set(peer.id.toString(), peer)
        if (peer.multiaddrs.length > 0) await libp2p.peerStore.merge(peer.id, { multiaddrs: peer.multiaddrs }).catch(() => {})
      }
      if (peers.size >= context.maxPeers) break
    }
  } catch (err) {
    options.signal?.throwIfAborted()
    context.log('lookup of %s ended early: %s', key, (err as Error)?.message)
  }
  return [...peers.values()].slice(0, context.maxPeers)
}

/** The peer's images under `key` that the request admits; a peer that fails or lies is skipped. */
async function imagesOf (context: LookupContext, peer: PeerId, key: string, request: CompiledRequest, lineKind: string, options: SearchOptions): Promise<RemoteCandidate[]> {
  let answer
  try {
    answer = await call(context.libp2p, peer, PROTOCOLS.image, { type: 'images', key }, imagesAnswerSchema, { signal: options.deadline, maxBytes: IMAGE_WIRE_LIMITS.maxAnswerBytes })
  } catch (err) {
    options.signal?.throwIfAborted()
    context.log('%p did not list its images under %s: %s', peer, key, (err as Error)?.message)
    return []
  }
  const candidates: RemoteCandidate[] = []
  for (const entry of answer.images) {
    let descriptor: GoldenDescriptor
    try {
      descriptor = verifyDescriptor(entry.descriptor, entry.id)
    } catch (err) {
      context.log('%p sent a bad descriptor for %s: %s', peer, entry.id, (err as Error).message)
      continue
    }
    if (descriptor.line !== lineKind) continue
    const plan = chooseImage(request, indexWarehouse([{ id: entry.id, descriptor }]))
    if (plan !== undefined) candidates.push({ peer: peer.toString(), id: entry.id, descriptor, saves: plan.cloned.length })
  }
  return candidates
}

function bytesOf (candidate: RemoteCandidate): number {
  return candidate.descriptor.artifacts.reduce((sum, a) => sum + a.bytes, 0)
}
