export { plantStore, type PlantStore, type VmRecord, type NetworkAllocation } from './plant-store.js'
export { StoreError } from './errors.js'
