import type { AbortOptions } from './abort.js'
import type { WarehouseRecord } from './golden.js'

/** What a plant serves of its images: the records, and the ids it provides under each DHT key. */
export interface ServedImages {
  get(id: string): Promise<WarehouseRecord | undefined>
  /** ids of images provided under a prefix key (a CID string) */
  under(key: string): readonly string[]
}

/** One artifact's bytes asked of a holder: from `offset` to its `bytes`. */
export interface ArtifactRequest {
  id: string
  name: string
  offset: number
  bytes: number
}

/**
 * The network the image component stands on (src/net/protocols/image/ implements it on libp2p
 * and kad-dht): the DHT's provider records and the image protocol's three requests. Keys and ids
 * are CID strings. It moves bytes and records; choosing, verifying and storing images is the
 * image component's.
 */
export interface ImageNetwork {
  /** peers in the DHT's routing table; undefined when the DHT does not say */
  dhtPeers(): number | undefined
  /** providers of a key other than this node, as the DHT finds them (their addresses are remembered for dialling) */
  providers(key: string, options?: AbortOptions): AsyncIterable<string>
  /** announces this node as a provider of the key; resolves to the DHT peers that took the record */
  provide(key: string, options?: AbortOptions): Promise<number>
  /** serves the image protocol from `images`; `signal` ends the transfers under way */
  serve(images: ServedImages, options: { signal: AbortSignal, maxInboundStreams: number }): Promise<void>
  unserve(): Promise<void>
  /** the peer's descriptor of image `id` (unchecked) and the file name it keeps each artifact under */
  describe(peer: string, id: string, options?: AbortOptions): Promise<{ descriptor: unknown, files: Record<string, string> }>
  /** ids and descriptors (unchecked) of the images the peer provides under a key */
  list(peer: string, key: string, options?: AbortOptions): Promise<Array<{ id: string, descriptor: unknown }>>
  /**
   * Hands `request.bytes - request.offset` bytes of the artifact to `sink` as they arrive, pausing
   * the stream while the sink is behind; throws when the peer sends fewer or more.
   */
  download(peer: string, request: ArtifactRequest, sink: (chunk: Uint8Array) => Promise<void>, options?: AbortOptions): Promise<void>
}
