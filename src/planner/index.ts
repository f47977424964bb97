export {
  validateSpec, topologicalOrder, isHostAction, isDhcp, SPEC_LIMITS, DHCP_LEASE_TIMEOUT_MS,
  type VmSpec, type ActionSpec, type ErrorActionSpec, type HostActionSpec, type HostParams, type OnErrorSpec, type Hardware, type NetworkSpec, type StaticNetwork, type DhcpNetwork
} from './spec.js'
export { InvalidSpecError, InvalidDescriptorError, type SpecIssue } from './errors.js'
export { nestingTooDeep, MAX_TEXT_NESTING } from './text-nesting.js'
export { actionIdentity, actionDefinition, canonicalJson, sha256Hex, type Json } from './identity.js'
export {
  createDescriptor, validateDescriptor, verifyDescriptor, goldenId, goldenCid, artifactBytes, GOLDEN_LIMITS,
  type GoldenDescriptor, type GoldenDescriptorInit, type GoldenArtifact, type ImageHardware
} from './golden.js'
export { compileRequest, type CompiledRequest, type IdentityGroup } from './request.js'
export { indexWarehouse, chooseImage, hardwareKey, type WarehouseIndex, type WarehouseImage, type WarehouseImageInit, type Plan } from './match.js'
export { explainImage, explainPlan, formatExplanation, type Explanation, type Verdict, type MatchTest } from './explain.js'
