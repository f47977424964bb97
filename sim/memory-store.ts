import { MemoryLevel } from 'memory-level'
import type { AbortOptions, NetworkAllocation, PlantStore, VmRecord } from '../src/interface/index.js'
import { Warehouse, type WarehouseRecord } from '../src/store/index.js'

/** A plant store in memory, with a warehouse on an in-memory level: the simulator's plants keep no files. */
export class MemoryPlantStore implements PlantStore {
  private readonly vms = new Map<string, VmRecord>()
  private readonly networks = new Map<string, NetworkAllocation>()
  private readonly db = new MemoryLevel<string, unknown>({ valueEncoding: 'json' })
  readonly warehouse = new Warehouse(this.db.sublevel<string, WarehouseRecord>('images', { valueEncoding: 'json' }), this.db.sublevel<string, number>('prefixes', { valueEncoding: 'json' }))

  async start (): Promise<void> { await this.db.open() }
  async stop (): Promise<void> { await this.db.close() }

  async getVm (vmid: string, options: AbortOptions = {}): Promise<VmRecord | undefined> {
    options.signal?.throwIfAborted()
    const record = this.vms.get(vmid)
    return record === undefined ? undefined : structuredClone(record)
  }

  async listVms (options: AbortOptions = {}): Promise<VmRecord[]> {
    options.signal?.throwIfAborted()
    return [...this.vms.values()].map((r) => structuredClone(r))
  }

  async listNetworks (options: AbortOptions = {}): Promise<NetworkAllocation[]> {
    options.signal?.throwIfAborted()
    return [...this.networks.values()].map((n) => ({ ...n }))
  }

  async commitVm (record: VmRecord, newNetwork?: NetworkAllocation, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.vms.set(record.classad.vmid, structuredClone(record))
    if (newNetwork !== undefined) this.networks.set(newNetwork.domain, { ...newNetwork })
  }

  async updateVm (record: VmRecord, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.vms.set(record.classad.vmid, structuredClone(record))
  }

  async removeVm (vmid: string, releaseNetwork?: string, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.vms.delete(vmid)
    if (releaseNetwork !== undefined) this.networks.delete(releaseNetwork)
  }
}
