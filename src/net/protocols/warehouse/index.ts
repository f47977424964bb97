import { warehouseRequestSchema, type WarehouseRequest } from '../../../interface/index.js'
import type { VmplantLibp2p } from '../../node.js'
import { serve } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'

/** Registers `/vmplant/warehouse`: anyone may read a plant's catalogue (list, inspect, plan). */
export async function serveWarehouse (libp2p: VmplantLibp2p, read: (request: WarehouseRequest, signal: AbortSignal) => Promise<unknown>): Promise<void> {
  await serve(libp2p, PROTOCOLS.warehouse, warehouseRequestSchema, async (request, { signal }) => await read(request, signal))
}
