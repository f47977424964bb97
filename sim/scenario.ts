import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { costConfigSchema, COST_DEFAULTS } from '../src/actors/plant/cost.js'
import { domainSchema } from '../src/interface/index.js'
import { validateSpec, InvalidSpecError, type VmSpec } from '../src/planner/index.js'
import { describeIssue, formatPath } from '../src/planner/spec.js'
import { ScenarioError } from './errors.js'

const nameSchema = z.string().min(1).max(40).regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and "-"')
const ms = z.number().min(0)

const lineSchema = z.strictObject({
  cloneMs: ms.default(0),
  resumeMs: ms.default(0),
  /** per guest action */
  actionMs: ms.default(0),
  goldenMs: ms.default(0)
})

const plantSchema = z.strictObject({
  name: nameSchema,
  /** this many identical plants, named `<name>-1` ... `<name>-<count>` (just `<name>` when 1) */
  count: z.number().int().min(1).max(100_000).default(1),
  /** host memory the plant may give to VMs */
  memoryMB: z.number().int().positive().default(4096),
  /** the plant's cost config; its `model` is the policy it bids with (`--policy` overrides it on every plant) */
  cost: costConfigSchema.default(COST_DEFAULTS),
  line: lineSchema.default({ cloneMs: 0, resumeMs: 0, actionMs: 0, goldenMs: 0 }),
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
  /** one-way delay of messages to and from the site's broker and plants; @default topology.latencyMs */
  latencyMs: ms.optional(),
  plants: z.array(plantSchema).min(1)
})

const arrivalsSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('poisson'), ratePerSec: z.number().positive(), requests: z.number().int().min(1).max(10_000_000) }),
  z.strictObject({ kind: z.literal('periodic'), everyMs: z.number().positive(), requests: z.number().int().min(1).max(10_000_000) }),
  z.strictObject({ kind: z.literal('fixed'), atMs: z.array(ms).min(1) })
])

const lifetimeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fixed'), ms: z.number().positive() }),
  z.strictObject({ kind: z.literal('exponential'), meanMs: z.number().positive() })
])

const workloadSchema = z.strictObject({
  arrivals: arrivalsSchema,
  /** the domains requests come from, by name or as `count` generated names, chosen by Zipf's law */
  domains: z.strictObject({
    names: z.array(domainSchema).min(1).optional(),
    count: z.number().int().min(1).max(1_000_000).optional(),
    /** exponent s: domain k (from 1) is chosen with weight 1/k^s; 0 is uniform */
    zipf: z.number().min(0).default(1)
  }).refine((d) => (d.names === undefined) !== (d.count === undefined), 'give either names or count'),
  /** the VM specs requested, each with a weight */
  mix: z.array(z.strictObject({ weight: z.number().positive().default(1), spec: z.unknown() })).min(1),
  /** how long a VM lives before its client destroys it; absent: it lives to the end */
  lifetime: lifetimeSchema.optional()
})

const failureSchema = z.strictObject({
  plant: nameSchema.optional(),
  /** the site whose broker fails */
  broker: nameSchema.optional(),
  fromMs: ms,
  /** when it comes back; absent: never */
  toMs: ms.optional()
}).refine((f) => (f.plant === undefined) !== (f.broker === undefined), 'name either a plant or a broker')
  .refine((f) => f.toMs === undefined || f.toMs > f.fromMs, { message: 'must be after fromMs', path: ['toMs'] })

const scenarioSchema = z.strictObject({
  name: nameSchema,
  description: z.string().optional(),
  /** the seed of every random choice, overridden by `--seed` */
  seed: z.number().int().min(0).max(0xffffffff).default(1),
  /** how often plants are sampled, in virtual ms */
  sampleEveryMs: z.number().positive().default(1000),
  topology: z.strictObject({
    /** one-way delay of every message, in ms */
    latencyMs: ms.default(1),
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
  })
})

export type ScenarioInput = z.input<typeof scenarioSchema>
type ParsedScenario = z.output<typeof scenarioSchema>

/** A checked scenario; the specs of its mix are parsed VM specs. */
export type Scenario = Omit<ParsedScenario, 'workload'> & {
  workload: Omit<ParsedScenario['workload'], 'mix'> & { mix: Array<{ weight: number, spec: VmSpec, raw: unknown }> }
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

/** Checks a scenario; an error names the offending field, relative to `source` (a file name or 'scenario'). */
export function validateScenario (input: unknown, source = 'scenario'): Scenario {
  const parsed = scenarioSchema.safeParse(input ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ScenarioError(source, formatPath(issue?.path ?? []), describe(issue))
  }
  const mix = parsed.data.workload.mix.map((entry, i) => {
    try {
      return { weight: entry.weight, spec: validateSpec(entry.spec), raw: entry.spec }
    } catch (err: any) {
      if (!(err instanceof InvalidSpecError)) throw err
      const path = `workload.mix[${i}].spec${err.path === '' ? '' : `.${err.path}`}`
      throw new ScenarioError(source, path, err.problem, { cause: err })
    }
  })
  return { ...parsed.data, workload: { ...parsed.data.workload, mix } }
}

/** Reads a YAML (or JSON) scenario file. */
export async function loadScenario (file: string): Promise<Scenario> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err: any) {
    throw new ScenarioError(file, '', `cannot be read: ${err?.message}`, { cause: err })
  }
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (err: any) {
    throw new ScenarioError(file, '', `is not valid YAML: ${err?.message}`, { cause: err })
  }
  return validateScenario(raw, file)
}
