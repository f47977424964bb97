import { z } from 'zod'
import { InvalidSpecError } from './errors.js'
import { checkNetwork, type NetworkSpec } from './spec-network.js'

export { DHCP_LEASE_TIMEOUT_MS, isDhcp, type DhcpNetwork, type NetworkSpec, type StaticNetwork } from './spec-network.js'

/** Limits that keep one request from swamping a plant; checked before anything runs. */
export const SPEC_LIMITS = {
  minMemoryMB: 16,
  maxMemoryMB: 65_536,
  maxActions: 256,
  maxScriptBytes: 64 * 1024,
  maxIdLength: 64,
  maxExports: 32,
  maxTimeoutMs: 86_400_000
} as const

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

const EXPORT_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/

/** What a host action does to the VM; the plant does it through the production line, not in the guest. */
const hostSchema = z.discriminatedUnion('attach', [
  z.strictObject({
    attach: z.literal('iso'),
    /** name of an ISO image the plant knows */
    image: z.string().min(1).max(256)
  }),
  z.strictObject({
    attach: z.literal('nic'),
    /** network (bridge, VNET) to plug the NIC into */
    network: z.string().min(1).max(64),
    mac: z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'must be a lower-case MAC address such as "52:54:00:12:34:56"').optional()
  })
])

const actionFields = {
  id: z.string().min(1).max(SPEC_LIMITS.maxIdLength).regex(ID_PATTERN, 'must be letters, digits, "_", "." or "-", starting with a letter or digit'),
  type: z.enum(['guest', 'host']).default('guest'),
  run: z.string().refine((s) => Buffer.byteLength(s) <= SPEC_LIMITS.maxScriptBytes, `must be at most ${SPEC_LIMITS.maxScriptBytes} bytes`).optional(),
  host: hostSchema.optional(),
  after: z.array(z.string()).default([]),
  timeoutMs: z.number().int().min(1).max(SPEC_LIMITS.maxTimeoutMs).optional(),
  exports: z.array(z.string().max(SPEC_LIMITS.maxIdLength).regex(EXPORT_PATTERN, 'must be a name such as "ip_address"')).max(SPEC_LIMITS.maxExports).default([])
}

const errorActionSchema = z.strictObject(actionFields)

const actionSchema = z.strictObject({
  ...actionFields,
  onError: z.strictObject({
    actions: z.array(errorActionSchema).max(SPEC_LIMITS.maxActions).default([]),
    then: z.enum(['continue', 'abort'])
  }).optional()
})

const hardwareSchema = z.strictObject({
  memoryMB: z.number().int().min(SPEC_LIMITS.minMemoryMB).max(SPEC_LIMITS.maxMemoryMB),
  os: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a lower-case name such as "linux"'),
  arch: z.string().min(1).max(32).default('x86_64'),
  diskMB: z.number().int().min(1).max(4_194_304).optional()
})

// one object rather than a union, so that an error names the field rather than the union
const networkSchema = z.strictObject({
  /** the guest's eth0 address and prefix on the client's LAN, e.g. "192.168.77.10/24" */
  address: z.string().max(32).optional(),
  /** the default route, on the address's subnet; absent: no default route */
  gateway: z.string().max(32).optional(),
  /** an address from the DHCP server of the client's LAN, reached through the domain's tunnel */
  dhcp: z.boolean().optional(),
  /** with `dhcp`: how long the guest may wait for a lease before the create fails; @default 30000 */
  leaseTimeoutMs: z.number().int().min(1000).max(300_000).optional()
})

const specSchema = z.strictObject({
  hardware: hardwareSchema,
  /** how the guest's eth0 gets its address on the domain's network; absent: the guest's own business */
  network: networkSchema.optional(),
  actions: z.array(actionSchema).max(SPEC_LIMITS.maxActions).default([]),
  /** independent branches may run at the same time in the guest */
  concurrent: z.boolean().default(false)
})

export type Hardware = z.output<typeof hardwareSchema>
/** Parameters of a host action. */
export type HostParams = z.output<typeof hostSchema>

/**
 * A node of the configuration DAG: a guest action (a script run inside the guest) or a host
 * action (done by the plant to the VM from outside, e.g. attaching an ISO image or a NIC).
 * One interface rather than a union so that code written before host actions still compiles;
 * narrow with `isHostAction`.
 */
export interface ErrorActionSpec {
  id: string
  /** @default 'guest' */
  type: 'guest' | 'host'
  /** the guest script; '' for a host action, which runs nothing in the guest */
  run: string
  /** what a host action does; absent on guest actions */
  host?: HostParams
  /** ids of the actions this one runs after */
  after: string[]
  /** how long the action may take; the production line's default when absent */
  timeoutMs?: number
  /** keys whose `key=value` output lines become classad attributes */
  exports: string[]
}
/** A host action, narrowed. */
export type HostActionSpec = ErrorActionSpec & { type: 'host', host: HostParams }

/** True for an action the plant does from outside the guest. */
export function isHostAction (action: ErrorActionSpec): action is HostActionSpec {
  return action.type === 'host'
}

/** What to do when an action fails: run `actions` (a DAG of their own), then go on or give up. */
export interface OnErrorSpec { actions: ErrorActionSpec[], then: 'continue' | 'abort' }
/**
 * An action of the main DAG. Without `onError`, a failure destroys the VM and fails the request
 * naming the action (the paper's implicit error node). Actions of an error sub-graph
 * (`ErrorActionSpec`) have no sub-graph of their own: a failure there aborts.
 */
export interface ActionSpec extends ErrorActionSpec { onError?: OnErrorSpec }
export interface VmSpec {
  hardware: Hardware
  /** the guest's address on the domain's network, set by the plant before the actions run */
  network?: NetworkSpec
  actions: ActionSpec[]
  /** @default false */
  concurrent: boolean
}

/** Parses and checks a VM spec: its fields, then its actions as a DAG. Throws InvalidSpecError. */
export function validateSpec (input: unknown): VmSpec {
  const parsed = specSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const issues = parsed.error.issues.map((i) => ({ field: formatPath(i.path), path: i.path, problem: describeIssue(i), ...(i.code === 'unrecognized_keys' ? { keys: i.keys } : {}) }))
    throw new InvalidSpecError(formatPath(issue?.path ?? []), describeIssue(issue), { issues })
  }
  const spec = parsed.data as VmSpec
  if (spec.network !== undefined) checkNetwork(spec.network as { address?: string, gateway?: string, dhcp?: boolean, leaseTimeoutMs?: number })
  spec.actions.forEach((action, i) => checkAction(action, `actions[${i}]`))
  checkDag(spec.actions, 'actions')
  let total = spec.actions.length
  spec.actions.forEach((action, i) => {
    const sub = action.onError?.actions ?? []
    total += sub.length
    sub.forEach((s, j) => checkAction(s, `actions[${i}].onError.actions[${j}]`))
    checkDag(sub, `actions[${i}].onError.actions`)
  })
  if (total > SPEC_LIMITS.maxActions) throw new InvalidSpecError('actions', `at most ${SPEC_LIMITS.maxActions} actions allowed, counting error sub-graphs (got ${total})`)
  checkExports(spec.actions)
  return spec
}

/** A guest action needs a script and a host action its parameters, never both; a host action's `run` becomes ''. */
function checkAction (action: ErrorActionSpec, path: string): void {
  const { type, run, host } = action as { type: string, run?: string, host?: unknown }
  if (type === 'guest' && (run === undefined || run === '')) throw new InvalidSpecError(`${path}.run`, 'a guest action needs a script')
  if (type === 'guest' && host !== undefined) throw new InvalidSpecError(`${path}.host`, 'only host actions take host parameters (add "type: host")')
  if (type === 'host' && host === undefined) throw new InvalidSpecError(`${path}.host`, 'a host action needs its parameters, e.g. { attach: iso, image: NAME }')
  // '' is what validation gives a host action, so a validated spec validates again
  if (type === 'host' && run !== undefined && run !== '') throw new InvalidSpecError(`${path}.run`, 'a host action runs no script in the guest')
  action.exports.forEach((key, k) => {
    if (action.exports.indexOf(key) !== k) throw new InvalidSpecError(`${path}.exports[${k}]`, `"${key}" is listed twice`)
  })
  if (type === 'host') action.run = ''
}

/** Two actions exporting the same key would race for one classad attribute. */
function checkExports (actions: ActionSpec[]): void {
  const owner = new Map<string, number>()
  actions.forEach((action, i) => {
    action.exports.forEach((key, k) => {
      const first = owner.get(key)
      if (first !== undefined) throw new InvalidSpecError(`actions[${i}].exports[${k}]`, `"${key}" is already exported by actions[${first}]`)
      owner.set(key, i)
    })
  })
}

/** Checks ids and `after` edges of one DAG (the main one or an error sub-graph, whose edges stay inside it). */
function checkDag (actions: ErrorActionSpec[], path: string): void {
  const where = path === 'actions' ? '' : ' of this error sub-graph'
  const index = new Map<string, number>()
  actions.forEach((action, i) => {
    if (index.has(action.id)) throw new InvalidSpecError(`${path}[${i}].id`, `duplicate action id "${action.id}" (first used by ${path}[${index.get(action.id)}])`)
    index.set(action.id, i)
  })
  actions.forEach((action, i) => {
    action.after.forEach((dep, j) => {
      if (!index.has(dep)) throw new InvalidSpecError(`${path}[${i}].after[${j}]`, `"${dep}" is not the id of any action${where}`)
      if (dep === action.id) throw new InvalidSpecError(`${path}[${i}].after[${j}]`, `action "${dep}" cannot come after itself`)
    })
  })
  const cycle = findCycle(actions)
  if (cycle !== undefined) {
    const first = index.get(cycle[0] as string) as number
    throw new InvalidSpecError(`${path}[${first}].after`, `actions form a cycle: ${cycle.join(' -> ')}`)
  }
}

/** Depth-first search for a cycle; returns its ids, first repeated at the end. */
function findCycle (actions: ErrorActionSpec[]): string[] | undefined {
  const after = new Map(actions.map((a) => [a.id, a.after]))
  const colour = new Map<string, 'grey' | 'black'>()
  const path: string[] = []
  const visit = (id: string): string[] | undefined => {
    const mark = colour.get(id)
    if (mark === 'black') return undefined
    if (mark === 'grey') return [...path.slice(path.indexOf(id)), id]
    colour.set(id, 'grey')
    path.push(id)
    for (const dep of after.get(id) ?? []) {
      const found = visit(dep)
      if (found !== undefined) return found
    }
    path.pop()
    colour.set(id, 'black')
    return undefined
  }
  for (const action of actions) {
    const found = visit(action.id)
    if (found !== undefined) return found
  }
  return undefined
}

/** `actions[2].after[0]` from a zod issue path. */
export function formatPath (path: PropertyKey[]): string {
  let out = ''
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : (out === '' ? String(key) : `.${String(key)}`)
  return out
}

/** A short English problem for a zod issue, without the path. */
export function describeIssue (issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'invalid spec'
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
  if (issue.code === 'too_small' && issue.origin === 'number') return `must be at least ${String(issue.minimum)}`
  if (issue.code === 'too_big' && issue.origin === 'number') return `must be at most ${String(issue.maximum)}`
  if (issue.code === 'too_big' && issue.origin === 'array') return `at most ${String(issue.maximum)} entries allowed`
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`
  return issue.message
}

/** A topological order of the actions, stable with respect to their order in the spec. */
export function topologicalOrder<A extends ErrorActionSpec> (actions: A[]): A[] {
  const done = new Set<string>()
  const out: A[] = []
  const pending = [...actions]
  while (pending.length > 0) {
    const i = pending.findIndex((a) => a.after.every((d) => done.has(d)))
    if (i < 0) throw new InvalidSpecError('actions', 'actions form a cycle')
    const [next] = pending.splice(i, 1) as [A]
    done.add(next.id)
    out.push(next)
  }
  return out
}
