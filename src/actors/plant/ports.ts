import type { AbortOptions } from '../../interface/index.js'
import type { CompiledRequest } from '../../planner/index.js'

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

/** What a bid asks of the golden images held by other plants (`PeerImages` of src/images/). */
export interface PeerImages {
  /** the image a production would fetch for the request when the plant has none (a DHT lookup, no transfer); undefined when none */
  quote(request: CompiledRequest, line: string, options?: AbortOptions): Promise<ImageQuote | undefined>
}

/** Named points of the create path where a test may kill the plant process (see faults.ts). */
export type FaultPoint = 'after-bid' | 'after-clone' | 'after-resume' | 'mid-action' | 'before-commit' | 'after-commit'

export const FAULT_POINTS: readonly FaultPoint[] = ['after-bid', 'after-clone', 'after-resume', 'mid-action', 'before-commit', 'after-commit']

/** Fault injection: the plant calls `hit` at each point; only tests give it something that acts. */
export interface Faults { hit(point: FaultPoint): void }
