/**
 * How many processes a golden's warm pool should hold: enough to serve the clones that arrive
 * while one refill runs (Little's law: arrival rate × refill time), never fewer than `poolSize`
 * (what config asks to keep), never more than `poolMax`, nor more than the spare host memory
 * pays for at the processes' measured size. Pure: the line feeds it what it measured.
 */
export interface PoolSizing {
  /** the pool's size when idle (config `poolSize`) */
  min: number
  /** the most it may grow to (config `poolMax`) */
  max: number
  /** clones claimed per second, recently (`arrivalRate`) */
  ratePerSecond: number
  /** how long one refill takes, start to ready, ms */
  refillMs: number
  /** host memory the pool may still take, MB */
  spareMB: number
  /** what one waiting process costs, MB */
  processMB: number
}

export function poolTarget (s: PoolSizing): number {
  const wanted = Math.ceil(Math.max(0, s.ratePerSecond) * Math.max(0, s.refillMs) / 1000)
  const affordable = s.processMB > 0 ? s.min + Math.floor(Math.max(0, s.spareMB) / s.processMB) : s.max
  return Math.max(s.min, Math.min(s.max, affordable, wanted))
}

/** arrivals older than this do not count */
export const RATE_HORIZON_MS = 60_000
/** the rate is that of the last few arrivals, so a burst is seen at once */
export const RATE_SAMPLES = 8

/**
 * Claims per second from the times of the last claims (ms, oldest first): the intervals between
 * the last few claims of the horizon. It holds while they are in the horizon, so that a pool grown
 * by a burst stays grown through the pause after it (and refills then), and falls to 0 once fewer
 * than three claims (a pair is no rate) are left in it.
 */
export function arrivalRate (times: readonly number[], now: number): number {
  const recent = times.filter((t) => now - t <= RATE_HORIZON_MS && t <= now).slice(-RATE_SAMPLES)
  if (recent.length < 3) return 0
  const span = Math.max(1, (recent[recent.length - 1] as number) - (recent[0] as number))
  return (recent.length - 1) / (span / 1000)
}
