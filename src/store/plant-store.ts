import { Level } from 'level'
import type { AbstractLevel } from 'abstract-level'
import type { AbortOptions, NetworkAllocation, PlantStore, VmRecord, Warehouse, WarehouseRecord } from '../interface/index.js'
import { StoreError } from './errors.js'
import { LevelWarehouse } from './warehouse.js'

export type { NetworkAllocation, VmRecord, PlantStore } from '../interface/index.js'

/** The plant store with the plant's warehouse, which shares its database. */
export interface LevelStore extends PlantStore {
  readonly warehouse: Warehouse
}

type Db = AbstractLevel<any, string, unknown>

/**
 * The batches that make and forget a VM reach the disk before they resolve (LevelDB's `sync`:
 * its log is fsynced): the plant sends a classad only after its record is committed, so a power
 * cut must not lose a record whose VM a client was handed (reconcile would destroy that VM), nor
 * bring back one that was destroyed. State updates and reads stay unsynced: a lost update is made
 * again by the next query or reconcile.
 */
const DURABLE = { sync: true } as const

class LevelPlantStore implements LevelStore {
  private readonly db: Db
  private readonly vms
  private readonly networks
  readonly warehouse: Warehouse

  constructor (private readonly where: string, db: Db) {
    this.db = db
    this.vms = this.db.sublevel<string, VmRecord>('vms', { valueEncoding: 'json' })
    this.networks = this.db.sublevel<string, NetworkAllocation>('networks', { valueEncoding: 'json' })
    this.warehouse = new LevelWarehouse(this.db.sublevel<string, WarehouseRecord>('images', { valueEncoding: 'json' }), this.db.sublevel<string, number>('prefixes', { valueEncoding: 'json' }))
  }

  async start (): Promise<void> {
    try {
      await this.db.open()
    } catch (err: unknown) {
      throw new StoreError(`cannot open the store at ${this.where}: ${causeMessage(err)}`, { cause: err })
    }
  }

  async stop (): Promise<void> {
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close()
  }

  async getVm (vmid: string, options: AbortOptions = {}): Promise<VmRecord | undefined> {
    options.signal?.throwIfAborted()
    return await this.vms.get(vmid)
  }

  async listVms (options: AbortOptions = {}): Promise<VmRecord[]> {
    options.signal?.throwIfAborted()
    return await this.vms.values().all()
  }

  async listNetworks (options: AbortOptions = {}): Promise<NetworkAllocation[]> {
    options.signal?.throwIfAborted()
    return await this.networks.values().all()
  }

  async commitVm (record: VmRecord, newNetwork?: NetworkAllocation, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const batch = this.db.batch()
    batch.put(record.classad.vmid, record, { sublevel: this.vms })
    if (newNetwork !== undefined) batch.put(newNetwork.domain, newNetwork, { sublevel: this.networks })
    await batch.write(DURABLE)
  }

  async updateVm (record: VmRecord, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.vms.put(record.classad.vmid, record)
  }

  async removeVm (vmid: string, releaseNetwork?: string, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const batch = this.db.batch()
    batch.del(vmid, { sublevel: this.vms })
    if (releaseNetwork !== undefined) batch.del(releaseNetwork, { sublevel: this.networks })
    await batch.write(DURABLE)
  }
}

/**
 * The plant's store in the LevelDB at `location`, or on a database of its own (the simulator
 * gives it an in-memory level, named `where` in errors).
 */
export function plantStore (location: string): LevelStore
export function plantStore (db: Db, where: string): LevelStore
export function plantStore (location: string | Db, where?: string): LevelStore {
  if (typeof location === 'string') return new LevelPlantStore(location, new Level<string, unknown>(location, { valueEncoding: 'json' }))
  return new LevelPlantStore(where ?? 'memory', location)
}

/** The message of the error's cause (level wraps the real one), else its own. */
function causeMessage (err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined
  if (cause instanceof Error) return cause.message
  return err instanceof Error ? err.message : String(err)
}
