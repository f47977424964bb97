export { VmNotFoundError, NoBidsError, OrderRefusedError, OrderExpiredError, ProductionFailedError, ImageNotFoundError } from '../interface/errors.js'
