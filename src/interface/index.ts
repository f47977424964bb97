/**
 * The contract every layer shares: the domain's messages and records, the ports (Transport,
 * ProductionLine, PlantStore, Warehouse, ImageNetwork, Clock, Random) and the errors that cross layers. It imports
 * nothing of ours.
 */
export * from './abort.js'
export * from './clock.js'
export * from './digest.js'
export * from './errors.js'
export * from './golden.js'
export * from './hardware.js'
export * from './host-networks.js'
export * from './image-network.js'
export * from './messages.js'
export * from './plant-store.js'
export * from './production-line.js'
export * from './transport.js'
export * from './commands.js'
