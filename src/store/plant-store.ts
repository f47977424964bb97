import { Level } from 'level'
import type { Classad } from '../net/wire.js'
import { StoreError } from './errors.js'
import { Warehouse, type WarehouseRecord } from './warehouse.js'

/** A domain's host-only network on this plant. */
export interface NetworkAllocation {
  domain: string
  /** 0 .. maxNetworks-1 */
  index: number
  name: string
  allocatedAt: string
}

/** The plant's view of one VM: its classad, the information system's record. */
export interface VmRecord {
  classad: Classad
}

export interface PlantStore {
  start(): Promise<void>
  stop(): Promise<void>
  getVm(vmid: string): Promise<VmRecord | undefined>
  listVms(): Promise<VmRecord[]>
  listNetworks(): Promise<NetworkAllocation[]>
  /** records a new VM and, in the same batch, its domain's network if that is new */
  commitVm(record: VmRecord, newNetwork?: NetworkAllocation): Promise<void>
  updateVm(record: VmRecord): Promise<void>
  /** forgets a VM and, in the same batch, frees its domain's network when `releaseNetwork` */
  removeVm(vmid: string, releaseNetwork?: string): Promise<void>
  /** the golden images of this plant */
  readonly warehouse: Warehouse
}

class LevelPlantStore implements PlantStore {
  private readonly db: Level<string, unknown>
  private readonly vms
  private readonly networks
  readonly warehouse: Warehouse

  constructor (location: string) {
    this.db = new Level<string, unknown>(location, { valueEncoding: 'json' })
    this.vms = this.db.sublevel<string, VmRecord>('vms', { valueEncoding: 'json' })
    this.networks = this.db.sublevel<string, NetworkAllocation>('networks', { valueEncoding: 'json' })
    this.warehouse = new Warehouse(this.db.sublevel<string, WarehouseRecord>('images', { valueEncoding: 'json' }), this.db.sublevel<string, number>('prefixes', { valueEncoding: 'json' }))
  }

  async start (): Promise<void> {
    try {
      await this.db.open()
    } catch (err: any) {
      throw new StoreError(`cannot open the store at ${this.db.location}: ${err?.cause?.message ?? err?.message}`, { cause: err })
    }
  }

  async stop (): Promise<void> {
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close()
  }

  async getVm (vmid: string): Promise<VmRecord | undefined> {
    return await this.vms.get(vmid)
  }

  async listVms (): Promise<VmRecord[]> {
    return await this.vms.values().all()
  }

  async listNetworks (): Promise<NetworkAllocation[]> {
    return await this.networks.values().all()
  }

  async commitVm (record: VmRecord, newNetwork?: NetworkAllocation): Promise<void> {
    const batch = this.db.batch()
    batch.put(record.classad.vmid, record, { sublevel: this.vms })
    if (newNetwork !== undefined) batch.put(newNetwork.domain, newNetwork, { sublevel: this.networks })
    await batch.write()
  }

  async updateVm (record: VmRecord): Promise<void> {
    await this.vms.put(record.classad.vmid, record)
  }

  async removeVm (vmid: string, releaseNetwork?: string): Promise<void> {
    const batch = this.db.batch()
    batch.del(vmid, { sublevel: this.vms })
    if (releaseNetwork !== undefined) batch.del(releaseNetwork, { sublevel: this.networks })
    await batch.write()
  }
}

export function plantStore (location: string): PlantStore {
  return new LevelPlantStore(location)
}
