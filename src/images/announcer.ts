import type { Logger } from '@libp2p/logger'
import type { AbortOptions, ImageNetwork, WarehouseRecord } from '../interface/index.js'
import { ProvideError } from './errors.js'
import { imageKeys } from './keys.js'

export interface AnnouncerParts {
  network: ImageNetwork
  log: Logger
  /** DHT provides run at once */
  provideConcurrency: number
}

/**
 * The warehouse's entries in the DHT index: every key of every image (`keys.ts`), which keys
 * already reached a DHT peer this run (kad-dht re-provides those), and the ids served under each
 * prefix key. Passes run one at a time; whoever asks while one runs shares the one queued next.
 */
export class ImageAnnouncer {
  /** keys (CID strings) that reached at least one DHT peer this run */
  private readonly provided = new Set<string>()
  /** prefix key -> ids of the images held under it, as of the last `reindex` */
  private served = new Map<string, string[]>()
  /** every key of the warehouse's images, as of the last `reindex` */
  private keys = new Set<string>()
  /** an image's keys never change (its id is its content hash), so they are worked out once */
  private readonly keysOf = new Map<string, { image: string, prefixes: string[] }>()
  /** the pass running now, and the one queued behind it (shared by everyone who asks meanwhile) */
  private current: Promise<void> = Promise.resolve()
  private queued?: Promise<void>

  constructor (private readonly parts: AnnouncerParts) {}

  /** ids of the images held under a prefix key, as the last `reindex` saw the warehouse */
  under (key: string): readonly string[] {
    return this.served.get(key) ?? []
  }

  /** Rebuilds the served index and the set of keys from the warehouse's records. */
  reindex (records: readonly WarehouseRecord[]): void {
    const served = new Map<string, string[]>()
    const keys = new Set<string>()
    for (const record of records) {
      let known = this.keysOf.get(record.id)
      if (known === undefined) {
        const cids = imageKeys(record.descriptor)
        known = { image: cids.image.toString(), prefixes: cids.prefixes.map((k) => k.toString()) }
        this.keysOf.set(record.id, known)
      }
      keys.add(known.image)
      for (const key of known.prefixes) {
        keys.add(key)
        served.set(key, [...(served.get(key) ?? []), record.id])
      }
    }
    this.served = served
    this.keys = keys
  }

  /** The next pass over the keys not yet provided (queued behind the one running); `signal` ends it. */
  pass (signal: AbortSignal): Promise<void> {
    if (this.queued !== undefined) return this.queued
    const queued: Promise<void> = this.current.catch(() => {}).then(async () => {
      if (this.queued === queued) this.queued = undefined
      await this.providePass(signal)
    })
    this.queued = this.current = queued
    return queued
  }

  /** resolves when no pass is running */
  async settled (): Promise<void> {
    await this.current.catch(() => {})
  }

  /** Provides the keys not yet provided, a few at a time. */
  private async providePass (signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    const todo = [...this.keys].filter((key) => !this.provided.has(key))
    const failed: string[] = []
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const key = todo[next++] as string
        if (await this.provideKey(key, { signal })) this.provided.add(key)
        else failed.push(key)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.parts.provideConcurrency, todo.length) }, worker))
    signal.throwIfAborted()
    this.parts.log('provided %d new keys; %d keys in all', todo.length - failed.length, this.keys.size)
    if (failed.length > 0) throw new ProvideError(`${failed.length} of ${todo.length} image keys reached no DHT peer: ${failed.slice(0, 3).join(', ')}${failed.length > 3 ? ', ...' : ''}`)
  }

  /** Whether the provider record reached at least one peer. */
  private async provideKey (key: string, options: AbortOptions): Promise<boolean> {
    options.signal?.throwIfAborted()
    try {
      return await this.parts.network.provide(key, options) > 0
    } catch (err: unknown) {
      options.signal?.throwIfAborted()
      this.parts.log('providing %s failed: %s', key, err instanceof Error ? err.message : String(err))
      return false
    }
  }
}
