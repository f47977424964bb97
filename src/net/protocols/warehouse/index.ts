import type { Multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import { warehouseRequestSchema, type AbortOptions, type WarehouseRequest } from '../../../interface/index.js'
import type { Libp2p } from '@libp2p/interface'
import { call, serve } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'

/** any node: a full one serves, a light one (the command line's) reads */
export interface WarehouseProtocolComponents { libp2p: Libp2p }

/** `/vmplant/warehouse/1.0.0`: anyone may read a plant's catalogue (list, inspect, plan). */
export interface WarehouseProtocol {
  /** registers the plant's side */
  handle(read: (request: WarehouseRequest, signal: AbortSignal) => Promise<unknown>): Promise<void>
  /** asks a plant */
  read(plant: Multiaddr, request: WarehouseRequest, options?: AbortOptions): Promise<unknown>
}

class Warehouses implements WarehouseProtocol {
  constructor (private readonly components: WarehouseProtocolComponents) {}

  async handle (read: (request: WarehouseRequest, signal: AbortSignal) => Promise<unknown>): Promise<void> {
    await serve(this.components.libp2p, PROTOCOLS.warehouse, warehouseRequestSchema, async (request, { signal }) => await read(request, signal))
  }

  async read (plant: Multiaddr, request: WarehouseRequest, options: AbortOptions = {}): Promise<unknown> {
    return await call(this.components.libp2p, plant, PROTOCOLS.warehouse, request, z.unknown(), options)
  }
}

export function warehouseProtocol (components: WarehouseProtocolComponents): WarehouseProtocol {
  return new Warehouses(components)
}
