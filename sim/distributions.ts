import { z } from 'zod'
import type { Random } from '../src/interface/index.js'

/** the standard normal quantile of 0.99: a lognormal's p99 is its median times exp(sigma x this) */
const Z99 = 2.3263478740408408

/**
 * A duration in ms: a constant, or a distribution drawn from a seeded source. Draws are rounded to
 * whole ms (never below 0), which keeps the CSV short and event times free of float noise.
 */
export const durationSchema = z.union([
  z.number().min(0),
  z.discriminatedUnion('kind', [
    /** lognormal fitted to a median and a 99th percentile, as benchmarks report them */
    z.strictObject({ kind: z.literal('lognormal'), p50: z.number().positive(), p99: z.number().positive() })
      .refine((d) => d.p99 >= d.p50, { message: 'must be at least p50', path: ['p99'] }),
    z.strictObject({ kind: z.literal('uniform'), min: z.number().min(0), max: z.number().min(0) })
      .refine((d) => d.max >= d.min, { message: 'must be at least min', path: ['max'] }),
    z.strictObject({ kind: z.literal('exponential'), meanMs: z.number().positive() })
  ])
])
export type Duration = z.output<typeof durationSchema>

/** a standard normal draw (Box-Muller, one of the pair: two uniforms per draw keep the stream simple) */
function normal (random: Random): number {
  const u = 1 - random.next()
  const v = random.next()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/** One draw of a duration, in whole ms; a constant draws nothing from `random`. */
export function drawDuration (duration: Duration, random: Random): number {
  if (typeof duration === 'number') return duration
  switch (duration.kind) {
    case 'lognormal': {
      const sigma = Math.log(duration.p99 / duration.p50) / Z99
      return Math.max(0, Math.round(duration.p50 * Math.exp(sigma * normal(random))))
    }
    case 'uniform': return Math.round(duration.min + (duration.max - duration.min) * random.next())
    case 'exponential': return Math.round(-Math.log(1 - random.next()) * duration.meanMs)
    default: {
      const unknown: never = duration
      throw new Error(`unknown distribution ${(unknown as { kind: string }).kind}`)
    }
  }
}

/** A duration as the sim line takes it: the constant itself, or a function that draws. */
export function sampler (duration: Duration, random: Random): number | (() => number) {
  return typeof duration === 'number' ? duration : () => drawDuration(duration, random)
}
