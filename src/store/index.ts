export { plantStore, type PlantStore, type VmRecord, type NetworkAllocation } from './plant-store.js'
export { StoreError } from './errors.js'
export { Warehouse, digestFile, DEFAULT_IMAGE_DISK_MB, type WarehouseRecord, type ImageSource } from './warehouse.js'
