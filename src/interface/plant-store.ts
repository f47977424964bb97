import type { AbortOptions } from './abort.js'
import type { Classad } from './messages.js'
import type { VmHandle } from './production-line.js'

/** A domain's host-only network on this plant. */
export interface NetworkAllocation {
  domain: string
  /** 0 .. maxNetworks-1 */
  index: number
  name: string
  allocatedAt: string
}

/**
 * The one record of a VM: its classad (the information system's view), the driver's handle to
 * find it again, and the order it was made for. Nothing else holds a VM's state.
 */
export interface VmRecord {
  classad: Classad
  handle: VmHandle
  /** the shop's request id; a cancel for it destroys the VM */
  requestId: string
  /** the peer that ordered the VM; only it may cancel the order */
  orderedBy: string
}

/** The plant's VM records and network allocations; multi-record changes are one atomic batch. */
export interface PlantStore {
  start(): Promise<void>
  stop(): Promise<void>
  getVm(vmid: string, options?: AbortOptions): Promise<VmRecord | undefined>
  listVms(options?: AbortOptions): Promise<VmRecord[]>
  listNetworks(options?: AbortOptions): Promise<NetworkAllocation[]>
  /** records a new VM and, in the same batch, its domain's network if that is new */
  commitVm(record: VmRecord, newNetwork?: NetworkAllocation, options?: AbortOptions): Promise<void>
  updateVm(record: VmRecord, options?: AbortOptions): Promise<void>
  /** forgets a VM and, in the same batch, frees its domain's network when `releaseNetwork` */
  removeVm(vmid: string, releaseNetwork?: string, options?: AbortOptions): Promise<void>
}
