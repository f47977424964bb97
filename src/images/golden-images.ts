import { chooseImage, type Plan, type VmSpec } from '../planner/index.js'
import type { AbortOptions, GoldenImage, ImageSource, LineProgress, WarehouseRecord } from '../interface/index.js'
import type { ImageCatalog } from './catalog.js'
import type { PeerImages } from './types.js'

/** The image a production starts from, and what it saves of the request. */
export interface ImageChoice {
  plan: Plan
  record: WarehouseRecord
}

export interface BestForOptions extends AbortOptions {
  /** whether a peer's image may be fetched when the warehouse has none that serves; @default false */
  fetch?: boolean
  /** sees a fetch's steps (`image-fetch`) */
  onProgress?: ((event: LineProgress) => void) | undefined
}

/** What a plant asks of its golden images; the parts (catalog, peers) stay reachable for reads and bids. */
export interface GoldenImages {
  readonly catalog: ImageCatalog
  /** the DHT index and transfers; absent on a plant without peers (the simulator) */
  readonly peers?: PeerImages | undefined
  /**
   * The warehouse image that saves the most of the request's actions on a line of kind `line`;
   * with none and `fetch`, a peer's image found through the DHT, fetched into the warehouse first
   * (a failed fetch is logged and skipped). Undefined when neither has one.
   */
  bestFor(spec: VmSpec, line: string, options?: BestForOptions): Promise<ImageChoice | undefined>
  /** catalogues a golden the line made (built, learned, published) and announces it to the DHT */
  catalogue(golden: GoldenImage, source: ImageSource, now: number, options?: AbortOptions): Promise<WarehouseRecord>
  /** tells the DHT index that the warehouse changed; nothing without peers */
  announce(): void
}

export interface GoldenImagesComponents {
  catalog: ImageCatalog
  peers?: PeerImages | undefined
}

export function goldenImages (components: GoldenImagesComponents): GoldenImages {
  const { catalog, peers } = components
  const local = async (spec: VmSpec, line: string, options: AbortOptions): Promise<ImageChoice | undefined> => {
    const plan = chooseImage(spec, await catalog.index(line, options))
    if (plan === undefined) return undefined
    const record = await catalog.get(plan.image.id, options)
    return record !== undefined ? { plan, record } : undefined
  }
  return {
    catalog,
    peers,
    async bestFor (spec, line, options = {}) {
      options.signal?.throwIfAborted()
      const found = await local(spec, line, options)
      if (found !== undefined || options.fetch !== true || peers === undefined) return found
      const fetched = await peers.fetchBetter(spec, line, { ...(options.signal !== undefined ? { signal: options.signal } : {}), onProgress: options.onProgress })
      return fetched !== undefined ? await local(spec, line, options) : undefined
    },
    async catalogue (golden, source, now, options = {}) {
      const record = await catalog.add(golden, source, now, options)
      peers?.announce()
      return record
    },
    announce () {
      peers?.announce()
    }
  }
}
