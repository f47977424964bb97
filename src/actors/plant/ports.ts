import type { AbortOptions } from '../../interface/index.js'
import type { VmSpec } from '../../planner/index.js'

/**
 * Golden images held by other plants (the DHT index and image transfer in the daemon): fetched
 * into the warehouse when none of the plant's own fits.
 */
export interface PeerImages {
  /** fetches a peer's image that saves more actions than the plant's own best; undefined when none */
  fetchBetter(spec: VmSpec, line: string, options?: AbortOptions & { localSaves?: number }): Promise<unknown>
  /** tells the index that the warehouse changed */
  announce(): void
}

/** Named points of the create path where a test may kill the plant process (see faults.ts). */
export type FaultPoint = 'after-bid' | 'after-clone' | 'after-resume' | 'mid-action' | 'before-commit' | 'after-commit'

export const FAULT_POINTS: readonly FaultPoint[] = ['after-bid', 'after-clone', 'after-resume', 'mid-action', 'before-commit', 'after-commit']

/** Fault injection: the plant calls `hit` at each point; only tests give it something that acts. */
export interface Faults { hit(point: FaultPoint): void }
