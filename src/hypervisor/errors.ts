export { VmNotFoundError, ProductionError, UnsupportedHardwareError } from '../interface/errors.js'
