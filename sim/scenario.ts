import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { costConfigSchema, COST_DEFAULTS } from '../src/pricing/index.js'
import { domainSchema, errorMessage } from '../src/interface/index.js'
import { validateSpec, InvalidSpecError, MAX_TEXT_NESTING, nestingTooDeep } from '../src/planner/index.js'
import { describeIssue, formatPath } from '../src/planner/spec.js'
import { ScenarioError } from './errors.js'
import { durationSchema } from './distributions.js'
import { LINE_PROFILE_NAMES } from './line-profiles.js'
import { readTrace, type MixEntry, type TraceRequest } from './trace.js'

const nameSchema = z.string().min(1).max(40).regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and "-"')
const ms = z.number().min(0)

/** the sim line's latencies: a named profile of a measured line, and/or each a constant or a distribution */
const lineSchema = z.strictObject({
  profile: z.enum(LINE_PROFILE_NAMES).optional(),
  cloneMs: durationSchema.optional(),
  resumeMs: durationSchema.optional(),
  /** per guest action */
  actionMs: durationSchema.optional(),
  goldenMs: durationSchema.optional()
})
/** the chance that one message is lost */
const lossSchema = z.number().min(0).max(1)

const plantSchema = z.strictObject({
  name: nameSchema,
  /** this many identical plants, named `<name>-1` ... `<name>-<count>` (just `<name>` when 1) */
  count: z.number().int().min(1).max(100_000).default(1),
  /** host memory the plant may give to VMs */
  memoryMB: z.number().int().positive().default(4096),
  /** the plant's cost config; its `model` is the policy it bids with (`--policy` overrides it on every plant) */
  cost: costConfigSchema.default(COST_DEFAULTS),
  line: lineSchema.default({}),
  /** golden images learned from repeated action prefixes, as `plant.learning` of a node config */
  learning: z.strictObject({
    /** requests of one prefix after which it becomes a golden image; 0: never */
    after: z.number().int().min(0).default(0),
    diskBudgetMB: z.number().min(0).optional()
  }).optional()
})

const siteSchema = z.strictObject({
  name: nameSchema,
  /** true: a broker gathers the site's bids; false: its plants answer the shop themselves */
  broker: z.boolean().default(false),
  /** one-way delay of messages to and from the site's broker and plants, a constant or a distribution; @default topology.latencyMs */
  latencyMs: durationSchema.optional(),
  /** chance that a message to or from the site's broker and plants is lost; @default topology.loss */
  loss: lossSchema.optional(),
  plants: z.array(plantSchema).min(1)
})

const arrivalsSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('poisson'), ratePerSec: z.number().positive(), requests: z.number().int().min(1).max(10_000_000) }),
  z.strictObject({ kind: z.literal('periodic'), everyMs: z.number().positive(), requests: z.number().int().min(1).max(10_000_000) }),
  z.strictObject({ kind: z.literal('fixed'), atMs: z.array(ms).min(1) }),
  /** on/off: Poisson at ratePerSec while on; on and off periods of exponential length */
  z.strictObject({ kind: z.literal('bursty'), ratePerSec: z.number().positive(), onMs: z.number().positive(), offMs: z.number().positive(), requests: z.number().int().min(1).max(10_000_000) }),
  /** `size` requests at once, every `everyMs` */
  z.strictObject({ kind: z.literal('batch'), everyMs: z.number().positive(), size: z.number().int().min(1), requests: z.number().int().min(1).max(10_000_000) })
])

const lifetimeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fixed'), ms: z.number().positive() }),
  z.strictObject({ kind: z.literal('exponential'), meanMs: z.number().positive() })
])

const workloadSchema = z.strictObject({
  /** a CSV trace to replay instead of generated arrivals, relative to the scenario file */
  trace: z.string().min(1).optional(),
  arrivals: arrivalsSchema.optional(),
  /** the domains requests come from, by name or as `count` generated names, chosen by Zipf's law */
  domains: z.strictObject({
    names: z.array(domainSchema).min(1).optional(),
    count: z.number().int().min(1).max(1_000_000).optional(),
    /** exponent s: domain k (from 1) is chosen with weight 1/k^s; 0 is uniform */
    zipf: z.number().min(0).default(1)
  }).refine((d) => (d.names === undefined) !== (d.count === undefined), 'give either names or count').optional(),
  /** the VM specs requested, each with a weight (a trace names them by index) */
  mix: z.array(z.strictObject({ weight: z.number().positive().default(1), spec: z.unknown() })).min(1).optional(),
  /** how long a VM lives before its client destroys it; absent: it lives to the end */
  lifetime: lifetimeSchema.optional()
}).superRefine((w, ctx) => {
  const issue = (path: string, message: string): void => { ctx.addIssue({ code: 'custom', path: [path], message }) }
  if (w.trace !== undefined) {
    for (const field of ['arrivals', 'domains', 'lifetime'] as const) if (w[field] !== undefined) issue(field, 'a trace gives the requests: leave this out')
    return
  }
  if (w.arrivals === undefined) issue('arrivals', 'give arrivals (or a trace)')
  if (w.domains === undefined) issue('domains', 'give the domains')
  if (w.mix === undefined) issue('mix', 'give the specs requested')
})

/** a side of a partition: `shop`, a site (its broker and plants), `broker:<site>` or a plant */
const sideSchema = z.array(z.string().min(1)).min(1)

const failureSchema = z.strictObject({
  plant: nameSchema.optional(),
  /** the site whose broker fails */
  broker: nameSchema.optional(),
  /** two sets of nodes that cannot reach each other meanwhile */
  partition: z.tuple([sideSchema, sideSchema]).optional(),
  fromMs: ms,
  /** when it comes back; absent: never */
  toMs: ms.optional()
}).refine((f) => [f.plant, f.broker, f.partition].filter((x) => x !== undefined).length === 1, 'name one of a plant, a broker or a partition')
  .refine((f) => f.toMs === undefined || f.toMs > f.fromMs, { message: 'must be after fromMs', path: ['toMs'] })

const scenarioSchema = z.strictObject({
  name: nameSchema,
  description: z.string().optional(),
  /** the seed of every random choice, overridden by `--seed` */
  seed: z.number().int().min(0).max(0xffffffff).default(1),
  /** how often plants are sampled, in virtual ms */
  sampleEveryMs: z.number().positive().default(1000),
  topology: z.strictObject({
    /** one-way delay of every message, in ms: a constant or a distribution */
    latencyMs: durationSchema.default(1),
    /** chance that a message is lost */
    loss: lossSchema.default(0),
    shop: z.strictObject({
      bidWindowMs: z.number().int().min(1).default(2000),
      orderTimeoutMs: z.number().int().min(1).default(120_000),
      /** power of d choices: the shop calls only this many bidders, at random */
      choices: z.number().int().min(1).optional()
    }).default({ bidWindowMs: 2000, orderTimeoutMs: 120_000 }),
    sites: z.array(siteSchema).min(1)
  }),
  workload: workloadSchema,
  failures: z.array(failureSchema).default([])
}).superRefine((s, ctx) => {
  // zod runs this even when a count failed its bounds (an issue is reported for it already); names are made only from counts in range
  if (s.topology.sites.some((site) => site.plants.some((p) => !plantSchema.shape.count.safeParse(p.count).success))) return
  const sites = new Set<string>()
  const plants = new Set<string>()
  s.topology.sites.forEach((site, i) => {
    if (sites.has(site.name)) ctx.addIssue({ code: 'custom', path: ['topology', 'sites', i, 'name'], message: `site "${site.name}" is named twice` })
    sites.add(site.name)
    site.plants.forEach((p, j) => {
      for (const name of plantNames(p)) {
        if (plants.has(name)) ctx.addIssue({ code: 'custom', path: ['topology', 'sites', i, 'plants', j, 'name'], message: `plant "${name}" is named twice` })
        plants.add(name)
      }
    })
  })
  s.failures.forEach((f, i) => {
    if (f.plant !== undefined && !plants.has(f.plant)) ctx.addIssue({ code: 'custom', path: ['failures', i, 'plant'], message: `no plant is named "${f.plant}"` })
    const site = s.topology.sites.find((x) => x.name === f.broker)
    if (f.broker !== undefined && site?.broker !== true) ctx.addIssue({ code: 'custom', path: ['failures', i, 'broker'], message: `no site named "${f.broker}" has a broker` })
    f.partition?.forEach((side, k) => {
      side.forEach((member, m) => {
        if (partitionMembers(s.topology.sites, member) === undefined) ctx.addIssue({ code: 'custom', path: ['failures', i, 'partition', k, m], message: `"${member}" is not shop, a site, broker:<site with a broker> or a plant` })
      })
    })
  })
})

export type ScenarioInput = z.input<typeof scenarioSchema>
type ParsedScenario = z.output<typeof scenarioSchema>

/**
 * A checked scenario; the specs of its mix are parsed VM specs. A trace is read: its requests are
 * given, and its own specs appended to the mix.
 */
export type Scenario = Omit<ParsedScenario, 'workload'> & {
  workload: Omit<ParsedScenario['workload'], 'mix' | 'trace'> & { mix: MixEntry[], trace?: { file: string, requests: TraceRequest[] } }
}

/**
 * The nodes a partition's member stands for, as `shop`, `broker:<site>` and plant names: `shop`;
 * a site's name, its broker and plants; `broker:<site>`; a plant's name. Undefined: no such node.
 */
export function partitionMembers (sites: Array<{ name: string, broker: boolean, plants: Array<{ name: string, count?: number }> }>, member: string): string[] | undefined {
  if (member === 'shop') return ['shop']
  const site = sites.find((x) => x.name === member)
  if (site !== undefined) return [...(site.broker ? [`broker:${site.name}`] : []), ...site.plants.flatMap(plantNames)]
  if (member.startsWith('broker:')) return sites.some((x) => x.broker && `broker:${x.name}` === member) ? [member] : undefined
  return sites.some((x) => x.plants.some((p) => plantNames(p).includes(member))) ? [member] : undefined
}

/** the names of the plants one entry stands for */
export function plantNames (plant: { name: string, count?: number }): string[] {
  const count = plant.count ?? 1
  return count === 1 ? [plant.name] : Array.from({ length: count }, (_, k) => `${plant.name}-${k + 1}`)
}

/** the planner's wording, and "more than" where zero itself is not allowed */
function describe (issue: z.core.$ZodIssue | undefined): string {
  if (issue?.code === 'too_small' && issue.origin === 'number' && issue.inclusive === false) return `must be more than ${String(issue.minimum)}`
  return describeIssue(issue)
}

/**
 * Checks a scenario; an error names the offending field, relative to `source` (a file name or
 * 'scenario'). A trace is read from `baseDir` (@default the folder of `source` when it names a
 * file, else the working folder).
 */
export function validateScenario (input: unknown, source = 'scenario', baseDir?: string): Scenario {
  const parsed = scenarioSchema.safeParse(input ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ScenarioError(source, formatPath(issue?.path ?? []), describe(issue))
  }
  const mix = (parsed.data.workload.mix ?? []).map((entry, i) => {
    try {
      return { weight: entry.weight, spec: validateSpec(entry.spec), raw: entry.spec }
    } catch (err: unknown) {
      if (!(err instanceof InvalidSpecError)) throw err
      const path = `workload.mix[${i}].spec${err.path === '' ? '' : `.${err.path}`}`
      throw new ScenarioError(source, path, err.problem, { cause: err })
    }
  })
  const { trace, ...workload } = parsed.data.workload
  if (trace === undefined) return { ...parsed.data, workload: { ...workload, mix } }
  const file = resolve(baseDir ?? (source === 'scenario' ? '.' : dirname(source)), trace)
  const read = readTrace(file, mix)
  return { ...parsed.data, workload: { ...workload, mix: read.mix, trace: { file, requests: read.requests } } }
}

/** Reads a YAML (or JSON) scenario file. */
export async function loadScenario (file: string): Promise<Scenario> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err: unknown) {
    throw new ScenarioError(file, '', `cannot be read: ${errorMessage(err)}`, { cause: err })
  }
  const deep = nestingTooDeep(text)
  if (deep !== undefined) throw new ScenarioError(file, `line ${deep}`, `nests deeper than ${MAX_TEXT_NESTING} levels`)
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (err: unknown) {
    throw new ScenarioError(file, '', `is not valid YAML: ${errorMessage(err)}`, { cause: err })
  }
  return validateScenario(raw, file)
}
