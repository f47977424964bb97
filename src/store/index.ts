export { plantStore, type PlantStore, type VmRecord, type NetworkAllocation, type LevelStore } from './plant-store.js'
export { StoreError } from './errors.js'
export { Warehouse, digestFile, DEFAULT_IMAGE_DISK_MB, type WarehouseRecord, type ImageSource } from './warehouse.js'
