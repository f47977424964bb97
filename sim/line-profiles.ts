import type { Duration } from './distributions.js'

/** The sim line's latencies, each a constant or a distribution. */
export interface LineLatencies { cloneMs: Duration, resumeMs: Duration, actionMs: Duration, goldenMs: Duration }

const lognormal = (p50: number, p99: number): Duration => ({ kind: 'lognormal', p50, p99 })

/**
 * Latencies of the real lines as measured here (docs/benchmarks.md, 2026-11-30, 128 MB guests),
 * as lognormals fitted to each p50 and p99. QEMU under TCG: bench/clone's clone to the guest agent
 * answering (258.7 / 385.6 ms without the pool, 17.1 / 30.1 ms with it) is the clone, its resume
 * part (4 to 10 ms) apart; an action is bench/create's create minus the clone, halved for its two
 * actions ((589 - 259) / 2 and (902 - 386) / 2 without the pool, (256 - 17) / 2 and the no-pool tail
 * with it); a golden image costs a cold boot (3077 / 4080 ms). UML (bench/uml-clone): the clone is a
 * COW file (2.0 / 13.7 ms), the resume a boot until the agent answers (450 / 640 ms), an action
 * 207 to 241 / 316 to 526 ms, and a golden root file system about one boot.
 */
export const LINE_PROFILES = {
  'qemu-tcg': { cloneMs: lognormal(250, 376), resumeMs: lognormal(7, 10), actionMs: lognormal(165, 258), goldenMs: lognormal(3077, 4080) },
  'qemu-tcg-pool': { cloneMs: lognormal(10, 20), resumeMs: lognormal(7, 10), actionMs: lognormal(120, 258), goldenMs: lognormal(3077, 4080) },
  uml: { cloneMs: lognormal(2, 14), resumeMs: lognormal(450, 640), actionMs: lognormal(220, 420), goldenMs: lognormal(450, 640) }
} as const satisfies Record<string, LineLatencies>

export type LineProfileName = keyof typeof LINE_PROFILES
export const LINE_PROFILE_NAMES = Object.keys(LINE_PROFILES) as [LineProfileName, ...LineProfileName[]]

/** a line's latencies: its profile's, then the fields it gives itself; 0 for what neither gives */
export function lineLatencies (line: Partial<LineLatencies> & { profile?: LineProfileName }): LineLatencies {
  const { profile, ...own } = line
  const base: LineLatencies = profile !== undefined ? LINE_PROFILES[profile] : { cloneMs: 0, resumeMs: 0, actionMs: 0, goldenMs: 0 }
  return { ...base, ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined)) }
}
