import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { indexWarehouse, validateDescriptor, type WarehouseIndex } from '../planner/index.js'
import type { AbortOptions, GoldenImage, ImageSource, Warehouse, WarehouseRecord } from '../interface/index.js'
import { describeGolden } from './describe.js'

/**
 * The plant's catalogue of golden images over the store's `Warehouse`: records described by
 * their files' digests (so any copy can be checked), the matcher's index of a line's images, and
 * the removal of an image's files. Artifacts stay in files (the line's golden folder).
 */
export class ImageCatalog {
  private cached?: { line: string, version: number, index: WarehouseIndex }

  constructor (readonly warehouse: Warehouse) {}

  async list (options: AbortOptions = {}): Promise<WarehouseRecord[]> {
    return await this.warehouse.list(options)
  }

  async get (id: string, options: AbortOptions = {}): Promise<WarehouseRecord | undefined> {
    return await this.warehouse.get(id, options)
  }

  async touch (id: string, now: number, options: AbortOptions = {}): Promise<void> {
    await this.warehouse.touch(id, now, options)
  }

  async notePrefix (key: string, options: AbortOptions = {}): Promise<number> {
    return await this.warehouse.notePrefix(key, options)
  }

  /** Describes a line's golden image by its files' digests and records it; the same image twice is one record. */
  async add (golden: GoldenImage, source: ImageSource, now: number, options: AbortOptions = {}): Promise<WarehouseRecord> {
    const { id, descriptor } = await describeGolden(golden, options)
    const existing = await this.get(id, options)
    if (existing !== undefined) return existing
    const record: WarehouseRecord = { id, descriptor, golden: { ...golden, id }, source, addedAt: now, lastUsedAt: now, uses: 0 }
    await this.warehouse.put(record, options)
    return record
  }

  /** Records an image whose descriptor came from elsewhere (a peer), after its files were checked. */
  async put (record: WarehouseRecord, options: AbortOptions = {}): Promise<void> {
    validateDescriptor(record.descriptor)
    await this.warehouse.put(record, options)
  }

  async remove (id: string, options: AbortOptions = {}): Promise<WarehouseRecord | undefined> {
    return await this.warehouse.remove(id, options)
  }

  /** Removes an image's record, then those of its files that no other image uses; returns the files removed. */
  async discard (id: string, options: AbortOptions = {}): Promise<string[]> {
    const record = await this.remove(id, options)
    if (record === undefined || record.golden.dir === '') return []
    const inUse = new Set((await this.list(options)).flatMap((r) => Object.values(r.golden.artifacts).map((f) => join(r.golden.dir, f))))
    const removed: string[] = []
    for (const file of Object.values(record.golden.artifacts)) {
      const path = join(record.golden.dir, file)
      if (inUse.has(path)) continue
      await rm(path, { force: true })
      removed.push(path)
    }
    return removed
  }

  /** The matcher's index of the images a line of kind `line` can clone; rebuilt only after a change. */
  async index (line: string, options: AbortOptions = {}): Promise<WarehouseIndex> {
    const version = this.warehouse.version
    if (this.cached?.line === line && this.cached.version === version) return this.cached.index
    const records = (await this.list(options)).filter((r) => r.descriptor.line === line)
    const index = indexWarehouse(records.map((r) => ({ id: r.id, descriptor: r.descriptor })))
    this.cached = { line, version, index }
    return index
  }
}

/** The catalogue of the images a warehouse records. */
export function imageCatalog (warehouse: Warehouse): ImageCatalog {
  return new ImageCatalog(warehouse)
}
