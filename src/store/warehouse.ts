import { createReadStream } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import type { AbstractSublevel } from 'abstract-level'
import { createDescriptor, goldenId, indexWarehouse, validateDescriptor, type GoldenArtifact, type GoldenDescriptor, type WarehouseIndex } from '../planner/index.js'
import type { GoldenImage } from '../hypervisor/index.js'
import { StoreError } from './errors.js'

/** How an image came to the warehouse. */
export type ImageSource = 'built' | 'published' | 'fetched' | 'learned'

/** One golden image of the warehouse: what it is (descriptor) and where its line finds it (golden). */
export interface WarehouseRecord {
  id: string
  descriptor: GoldenDescriptor
  golden: GoldenImage
  source: ImageSource
  addedAt: number
  lastUsedAt: number
  uses: number
}

type ImagesLevel = AbstractSublevel<any, any, string, WarehouseRecord>
type PrefixLevel = AbstractSublevel<any, any, string, number>

/** The disk size an image is recorded with when its line does not say. */
export const DEFAULT_IMAGE_DISK_MB = 1024

/** sha256 and size of a file, read as a stream (RAM files are gigabytes). */
export async function digestFile (path: string, options: { signal?: AbortSignal } = {}): Promise<{ sha256: string, bytes: number }> {
  options.signal?.throwIfAborted()
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of createReadStream(path, { signal: options.signal })) {
    hash.update(chunk as Buffer)
    bytes += (chunk as Buffer).byteLength
  }
  return { sha256: hash.digest('hex'), bytes }
}

/**
 * The plant's catalogue of golden images, in its LevelDB. Artifacts stay in files (the line's
 * golden folder); the catalogue holds their digests, so any copy can be checked.
 */
export class Warehouse {
  private cached?: { line: string, index: WarehouseIndex }

  constructor (private readonly images: ImagesLevel, private readonly prefixes?: PrefixLevel) {}

  /** Counts one more request for an action prefix (by its key) and returns the new count. */
  async notePrefix (key: string): Promise<number> {
    if (this.prefixes === undefined) return 0
    const count = ((await this.prefixes.get(key)) ?? 0) + 1
    await this.prefixes.put(key, count)
    return count
  }

  async list (): Promise<WarehouseRecord[]> {
    return await this.images.values().all()
  }

  async get (id: string): Promise<WarehouseRecord | undefined> {
    return await this.images.get(id)
  }

  /** Describes a line's golden image by its files' digests and records it; the same image twice is one record. */
  async add (golden: GoldenImage, source: ImageSource, now: number, options: { signal?: AbortSignal } = {}): Promise<WarehouseRecord> {
    const artifacts: GoldenArtifact[] = []
    for (const [name, file] of Object.entries(golden.artifacts).sort(([a], [b]) => a.localeCompare(b))) {
      const path = join(golden.dir, file)
      try {
        await stat(path)
      } catch (err) {
        throw new StoreError(`golden image artifact ${name} is missing at ${path}`, { cause: err })
      }
      artifacts.push({ name, ...(await digestFile(path, options)) })
    }
    const descriptor = createDescriptor({
      line: golden.line,
      hardware: { arch: golden.hardware.arch, os: golden.hardware.os, memoryMB: golden.hardware.memoryMB, diskMB: golden.hardware.diskMB ?? DEFAULT_IMAGE_DISK_MB },
      applied: golden.applied,
      artifacts
    })
    const id = goldenId(descriptor)
    const existing = await this.get(id)
    if (existing !== undefined) return existing
    const record: WarehouseRecord = { id, descriptor, golden: { ...golden, id }, source, addedAt: now, lastUsedAt: now, uses: 0 }
    await this.images.put(id, record)
    this.cached = undefined
    return record
  }

  /** Records an image whose descriptor came from elsewhere (a peer), after its files were checked. */
  async put (record: WarehouseRecord): Promise<void> {
    validateDescriptor(record.descriptor)
    await this.images.put(record.id, record)
    this.cached = undefined
  }

  async remove (id: string): Promise<WarehouseRecord | undefined> {
    const record = await this.get(id)
    if (record === undefined) return undefined
    await this.images.del(id)
    this.cached = undefined
    return record
  }

  /** Removes an image's record, then those of its files that no other image uses; returns the files removed. */
  async discard (id: string): Promise<string[]> {
    const record = await this.remove(id)
    if (record === undefined || record.golden.dir === '') return []
    const inUse = new Set((await this.list()).flatMap((r) => Object.values(r.golden.artifacts).map((f) => join(r.golden.dir, f))))
    const removed: string[] = []
    for (const file of Object.values(record.golden.artifacts)) {
      const path = join(record.golden.dir, file)
      if (inUse.has(path)) continue
      await rm(path, { force: true })
      removed.push(path)
    }
    return removed
  }

  async touch (id: string, now: number): Promise<void> {
    const record = await this.get(id)
    if (record === undefined) return
    await this.images.put(id, { ...record, lastUsedAt: now, uses: record.uses + 1 })
  }

  /** The matcher's index of the images a line of kind `line` can clone; rebuilt only after a change. */
  async index (line: string): Promise<WarehouseIndex> {
    if (this.cached?.line === line) return this.cached.index
    const records = (await this.list()).filter((r) => r.descriptor.line === line)
    const index = indexWarehouse(records.map((r) => ({ id: r.id, descriptor: r.descriptor })))
    this.cached = { line, index }
    return index
  }
}
