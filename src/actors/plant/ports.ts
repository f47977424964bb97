import type { AbortOptions, LineProgress } from '../../interface/index.js'
import type { CompiledRequest, VmSpec } from '../../planner/index.js'

/** A peer's image a fetch would bring for a request: what a bid prices. */
export interface ImageQuote {
  id: string
  /** its holder */
  peer: string
  /** actions of the request it already has */
  saves: number
  /** bytes to move */
  bytes: number
  /** the holder's link speed as measured on earlier transfers (else any peer's), bytes per second */
  measuredBytesPerSecond?: number
}

/**
 * Golden images held by other plants (the DHT index and image transfer in the daemon): fetched
 * into the warehouse when none of the plant's own fits.
 */
export interface PeerImages {
  /** fetches a peer's image that saves more actions than the plant's own best; undefined when none */
  fetchBetter(spec: VmSpec, line: string, options?: AbortOptions & { localSaves?: number, onProgress?: ((event: LineProgress) => void) | undefined }): Promise<unknown>
  /** the image `fetchBetter` would fetch for the request when the plant has none (a DHT lookup, no transfer); undefined when none */
  quote(request: CompiledRequest, line: string, options?: AbortOptions): Promise<ImageQuote | undefined>
  /** tells the index that the warehouse changed */
  announce(): void
}

/** Named points of the create path where a test may kill the plant process (see faults.ts). */
export type FaultPoint = 'after-bid' | 'after-clone' | 'after-resume' | 'mid-action' | 'before-commit' | 'after-commit'

export const FAULT_POINTS: readonly FaultPoint[] = ['after-bid', 'after-clone', 'after-resume', 'mid-action', 'before-commit', 'after-commit']

/** Fault injection: the plant calls `hit` at each point; only tests give it something that acts. */
export interface Faults { hit(point: FaultPoint): void }
