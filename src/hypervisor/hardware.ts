import { hardwareProblem, type Hardware, type LineCapabilities } from '../interface/index.js'
import { UnsupportedHardwareError } from './errors.js'

/** The one hardware check of every line, from its capabilities: the plant's bids ask the same. */
export function checkHardware (caps: LineCapabilities, kind: string, hardware: Hardware): void {
  const problem = hardwareProblem(caps, kind, hardware)
  if (problem !== undefined) throw new UnsupportedHardwareError(problem)
}
