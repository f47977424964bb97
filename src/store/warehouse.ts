import type { AbstractSublevel } from 'abstract-level'
import type { AbortOptions, Warehouse, WarehouseRecord } from '../interface/index.js'

type ImagesLevel = AbstractSublevel<any, any, string, WarehouseRecord>
type PrefixLevel = AbstractSublevel<any, any, string, number>

/**
 * The warehouse's records in the plant's LevelDB (the `Warehouse` port). Artifacts stay in files
 * (the line's golden folder); describing and matching images is the image catalog's (src/images/).
 */
export class LevelWarehouse implements Warehouse {
  private changes = 0

  constructor (private readonly images: ImagesLevel, private readonly prefixes?: PrefixLevel) {}

  get version (): number {
    return this.changes
  }

  async notePrefix (key: string, options: AbortOptions = {}): Promise<number> {
    options.signal?.throwIfAborted()
    if (this.prefixes === undefined) return 0
    const count = ((await this.prefixes.get(key)) ?? 0) + 1
    await this.prefixes.put(key, count)
    return count
  }

  async list (options: AbortOptions = {}): Promise<WarehouseRecord[]> {
    options.signal?.throwIfAborted()
    return await this.images.values().all()
  }

  async get (id: string, options: AbortOptions = {}): Promise<WarehouseRecord | undefined> {
    options.signal?.throwIfAborted()
    return await this.images.get(id)
  }

  async put (record: WarehouseRecord, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.images.put(record.id, record)
    this.changes++
  }

  async remove (id: string, options: AbortOptions = {}): Promise<WarehouseRecord | undefined> {
    const record = await this.get(id, options)
    if (record === undefined) return undefined
    await this.images.del(id)
    this.changes++
    return record
  }

  async touch (id: string, now: number, options: AbortOptions = {}): Promise<void> {
    const record = await this.get(id, options)
    if (record === undefined) return
    await this.images.put(id, { ...record, lastUsedAt: now, uses: record.uses + 1 })
  }
}
