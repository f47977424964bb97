import { toPrintable, type Clock, type CreateProgress, type LineProgress } from '../../interface/index.js'

/** A production's step, as the plant reports it to whoever ordered the VM (the shop adds the plant). */
export type ProductionStep = Omit<CreateProgress, 'plant'>

/** the share done of a step is sent at most this often: a download reports every chunk */
const PROGRESS_INTERVAL_MS = 250

/**
 * The order's progress sink, with each step's "progress" events thinned to one per
 * PROGRESS_INTERVAL_MS (starts and ends always go); a listener that throws is not the production's
 * failure.
 */
export function productionSteps (listener: (step: ProductionStep) => void, clock: Clock): (step: ProductionStep | LineProgress) => void {
  const lastSent = new Map<string, number>()
  return (step) => {
    if (step.phase === 'progress') {
      const now = clock.now()
      if (now - (lastSent.get(step.step) ?? -Infinity) < PROGRESS_INTERVAL_MS) return
      lastSent.set(step.step, now)
    }
    try {
      listener({ step: step.step, phase: step.phase, detail: toPrintable(step.detail, 300), ...(step.fraction !== undefined ? { fraction: Math.min(1, Math.max(0, step.fraction)) } : {}) })
    } catch {
      // the watcher's trouble; the VM is made all the same
    }
  }
}
