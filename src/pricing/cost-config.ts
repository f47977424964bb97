import { z } from 'zod'

/** The cost models a plant can bid with; the simulator compares them as policies. */
export const COST_MODELS = ['paper', 'memory', 'warm', 'random'] as const
export type CostModelName = typeof COST_MODELS[number]

/**
 * The warm model's image charges when the config gives none: a plant with no admissible golden
 * image must build or fetch one first, a one-time piece of work priced like the paper's other
 * one-time cost, a new host-only network (50); each action its best image leaves to run is work
 * done for this VM alone, priced at 10, a little more than two running VMs (2 x 4).
 */
export const WARM_DEFAULTS = { noImageCost: 50, actionCost: 10 } as const

/** the random model's highest bid when the config gives none: twice the paper's network cost, so its bids span the paper's range */
export const DEFAULT_MAX_RANDOM_COST = 100

export const costConfigSchema = z.strictObject({
  /**
   * 'paper': section 3.4, compute plus network cost; 'memory': the prototype's host-memory model
   * (section 4.1); 'warm': the paper's cost plus the image charges (noImageCost, actionCost);
   * 'random': a bid drawn from a seeded random source, a baseline that ignores the load
   */
  model: z.enum(COST_MODELS).default('paper'),
  /** cost per VM already running here (paper and warm models) */
  computeCost: z.number().min(0).default(4),
  /** one-time cost of a host-only network for a domain new to this plant (paper and warm models) */
  networkCost: z.number().min(0).default(50),
  maxNetworks: z.number().int().min(1).max(4096).default(4),
  maxVms: z.number().int().min(1).max(100_000).default(32),
  /** added when the plant has no admissible golden image and must fetch or build one first; @default 0, and 50 for the warm model */
  noImageCost: z.number().min(0).optional(),
  /** added per action the plant's best image leaves to run; @default 0, and 10 for the warm model */
  actionCost: z.number().min(0).optional(),
  /** the random model bids a whole number from 0 to this, uniformly; @default 100 */
  maxRandomCost: z.number().int().min(1).max(1_000_000).optional()
})
export type CostConfig = z.output<typeof costConfigSchema>
export const COST_DEFAULTS: CostConfig = costConfigSchema.parse({})
