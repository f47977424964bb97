/** The production-line port lives in the contract layer; the drivers implement it. */
export type {
  AbortOptions, VmState, GoldenImage, GoldenOptions, GoldenRequest, LineProgress, GuestAction, ActionResult, VmInfo, VmHandle,
  LineCapabilities, LineFingerprint, ProductionLine, Hardware, HostParams, HostActionKind, CloneOptions, NetworkAttachment, HostNetworks
} from '../interface/index.js'
export { hardwareProblem } from '../interface/index.js'

export { checkHardware } from './hardware.js'
export * from './errors.js'
