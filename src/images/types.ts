import type { AbortOptions, GoldenImporter, ImageNetwork, LineProgress, WarehouseRecord } from '../interface/index.js'
import type { CompiledRequest, VmSpec } from '../planner/index.js'
import type { ImageCatalog } from './catalog.js'
import type { RemoteCandidate } from './lookup.js'
import type { DownloadProgress } from './artifact-file.js'

/** What happened to an image this plant fetched or tried to. */
export type PeerImagesEvent =
  | { type: 'image.fetched', id: string, peer: string, record: WarehouseRecord }
  | { type: 'image.failed', id: string, peer: string, error: Error }
  /** bytes of one artifact received so far, as a fetch goes (for a person watching) */
  | { type: 'image.progress', id: string, peer: string, artifact: string, received: number, bytes: number }

export interface CandidateOptions extends AbortOptions {
  /** only images that save at least this many of the request's actions; @default 0 */
  minSaves?: number
}

export interface FetchOptions extends AbortOptions {
  onProgress?: (event: DownloadProgress) => void
}

/** What fetching the best peer image for a request would move, for a bid to price. */
export interface FetchQuote {
  /** the image's id and its holder */
  id: string
  peer: string
  /** how many of the request's actions it already has */
  saves: number
  /** bytes of its artifacts */
  bytes: number
  /** bytes per second measured over earlier transfers from this peer (else from any peer); absent before the first */
  measuredBytesPerSecond?: number
}

export interface FetchBetterOptions extends AbortOptions {
  /** actions the best local image saves; undefined when there is none */
  localSaves?: number
  /** sees the fetch's steps (`image-fetch`: start, bytes received, done) */
  onProgress?: ((event: LineProgress) => void) | undefined
}

/**
 * The golden-image index on the DHT and the transfer of images between plants: a plant
 * provides a key for every image it holds and every prefix of its applied actions (see
 * `keys.ts` and `lookup.ts`), serves descriptors and artifacts through the image network, and
 * fetches a peer's image when that saves more actions than its own best.
 */
export interface PeerImages {
  /** serves the protocol and announces the warehouse in the background; idempotent */
  start(): Promise<void>
  /** stops serving and announcing; transfers under way are aborted; idempotent */
  stop(): Promise<void>
  /**
   * Announces every key of every image in the warehouse not yet announced, and waits until
   * each reached at least one DHT peer (a DHT with no peers yet is waited for). Throws
   * ProvideError naming the keys that reached no one.
   */
  provide(options?: AbortOptions): Promise<void>
  /** `provide` in the background, after a change of the warehouse; failures are logged */
  announce(): void
  /** images of peers that would serve the request, best first */
  candidates(spec: VmSpec | CompiledRequest, lineKind: string, options?: CandidateOptions): Promise<RemoteCandidate[]>
  /**
   * The image `fetchBetter` would fetch for the request (the first candidate), its size and the
   * measured speed of its holder's link; undefined when the DHT names none (or the search ran out
   * of time). For a bid: it looks up (cached for `cacheMs`) and moves no artifact.
   */
  quote(request: VmSpec | CompiledRequest, lineKind: string, options?: CandidateOptions): Promise<FetchQuote | undefined>
  /** the speed of earlier transfers from this peer (else from any peer), in bytes per second; undefined before the first */
  measuredBytesPerSecond(peer?: string): number | undefined
  /** peers that provide the image `id` */
  holders(id: string, options?: AbortOptions): Promise<string[]>
  /**
   * Copies the image from the peer into `<dir>/<id>/`, or through the importer of its line
   * (staged on the line's storage, checked and moved by the line): the descriptor is verified
   * against the id, each artifact against its digest, a broken transfer resumes from its `.part`
   * file next time. Returns the warehouse record, not yet in the warehouse; throws
   * DigestMismatchError for a corrupted artifact and the importer's error for an image its line
   * refuses, and in both cases deletes every file of the image. Concurrent fetches of one image
   * share one transfer.
   */
  fetch(candidate: Pick<RemoteCandidate, 'peer' | 'id'>, options?: FetchOptions): Promise<WarehouseRecord>
  /**
   * The plant's use of the above: finds a peer's image that saves more actions than the local
   * best, fetches it, puts it in the warehouse and announces it. Undefined when there is none
   * or every attempt failed (each failure is logged and reported as an event): the plant then
   * goes on with what it has.
   */
  fetchBetter(spec: VmSpec, lineKind: string, options?: FetchBetterOptions): Promise<WarehouseRecord | undefined>
  /** listens to fetches; returns the function that stops listening */
  onEvent(listener: (event: PeerImagesEvent) => void): () => void
}

export interface PeerImagesComponents {
  /** the plant's catalogue: what is served and provided, and where fetched images are put */
  catalog: ImageCatalog
  /** the DHT and the image protocol (src/net/protocols/image/) */
  network: ImageNetwork
  /** importers of the lines that take fetched images into their own storage (the QEMU line); others clone from `dir` */
  importers?: GoldenImporter[]
}

export interface PeerImagesInit {
  /** folder for fetched images, one sub-folder per image id, beside the plant's store */
  dir: string
  /** @default 'vmplant:images' */
  logPrefix?: string
  /** time limit of one search for candidates (its DHT lookups and listings), in ms; @default 3000 */
  lookupTimeoutMs?: number
  /** providers asked per lookup; @default 4 */
  maxPeers?: number
  /** longest prefixes of the request looked up besides the empty one (see `lookup.ts`); @default 4 */
  prefixProbes?: number
  /** how long a DHT lookup's result is reused, in ms (0: never); @default 30000 */
  cacheMs?: number
  /** candidates tried in turn before giving up; @default 3 */
  maxFetchAttempts?: number
  /** DHT provides run at once; @default 4 */
  provideConcurrency?: number
  /** streams of the image protocol served at once; @default 16 */
  maxInboundStreams?: number
  /** time stamps of fetched records; @default Date.now */
  now?: () => number
}
