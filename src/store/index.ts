export { plantStore, type PlantStore, type VmRecord, type NetworkAllocation, type LevelStore } from './plant-store.js'
export { StoreError } from './errors.js'
export { LevelWarehouse } from './warehouse.js'
export type { Warehouse, WarehouseRecord, ImageSource } from '../interface/index.js'
