/**
 * Pricing, shared by the plant (its bids), the broker (its estimates from load reports), the shop
 * (its choice) and the simulator: pure functions of what they are given, randomness injected.
 */
export {
  COST_MODELS, COST_DEFAULTS, WARM_DEFAULTS, DEFAULT_MAX_RANDOM_COST, costConfigSchema,
  type CostConfig, type CostModelName
} from './cost-config.js'
export {
  costModel, paperCost, memoryCost, warmCost, randomCost,
  type CostModel, type CostModelComponents, type CostRequest, type CostVerdict, type ImageFetch, type PlantLoad
} from './cost-models.js'
export { priceCall, type PricingInput } from './price-call.js'
export { callRequest } from './call-request.js'
export { fitOf, fetchPrice, IMAGE_FETCH_DEFAULTS, type ImageFetchConfig } from './image-fit.js'
export { rankOffers } from './rank-offers.js'
