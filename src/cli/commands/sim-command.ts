import type { Command } from 'commander'
import { loadScenario } from '../../../sim/scenario.js'
import { runScenario, type SimProgress } from '../../../sim/run.js'
import { formatSummary, type SimSummary } from '../../../sim/report.js'
import { formatComparison, runPolicies } from '../../../sim/policies.js'
import { COST_MODELS, type CostModelName } from '../../../src/actors/plant/cost.js'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'

function parseSeed (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new UsageError(`--seed must be a whole number from 0 to 4294967295, not "${value}"`)
  return n
}

function parsePolicies (value: string): CostModelName[] {
  const names = value.split(',').map((p) => p.trim())
  const policies: CostModelName[] = []
  for (const name of names) {
    if (!(COST_MODELS as readonly string[]).includes(name)) throw new UsageError(`--policy: "${name}" is not a cost model; choose from ${COST_MODELS.join(', ')}`)
    if (policies.includes(name as CostModelName)) throw new UsageError(`--policy names "${name}" twice`)
    policies.push(name as CostModelName)
  }
  return policies
}

/** One line on a terminal, rewritten in place as requests are answered; nothing elsewhere. */
function progressLine (): { update: (p: SimProgress, label?: string) => void, clear: () => void } {
  if (process.stderr.isTTY !== true) return { update: () => {}, clear: () => {} }
  let shown = ''
  return {
    update: (p, label) => {
      const key = `${label ?? ''}${Math.floor(100 * p.done / p.total)}`
      if (key === shown) return
      shown = key
      const width = 30
      const filled = Math.round(width * p.done / p.total)
      process.stderr.write(`\r\x1b[K${label !== undefined ? `${label} ` : ''}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} requests, ${(p.virtualMs / 1000).toFixed(1)} virtual s`)
    },
    clear: () => { if (shown !== '') process.stderr.write('\r\x1b[K') }
  }
}

export function registerSimCommand (program: Command, out: Output): void {
  program.command('sim')
    .description('run a scenario in the simulator: the real shop, broker and plant code on a virtual clock and an in-memory network; prints a summary')
    .argument('<scenario>', 'the scenario, a YAML file (see sim/README.md)')
    .option('--seed <n>', 'seed of every random choice (default: the scenario\'s seed)')
    .option('--out <dir>', 'write requests.csv (one row per request), plants.csv (plant samples over time) and SVG plots into this folder')
    .option('--policy <models>', `run once per cost model, comma-separated (${COST_MODELS.join(',')}), overriding every plant's cost.model; with --out, each run goes to DIR/<policy>/ and the comparison to DIR`)
    .action(async (file: string, options: { seed?: string, out?: string, policy?: string }) => {
      const seed = options.seed !== undefined ? parseSeed(options.seed) : undefined
      const policies = options.policy !== undefined ? parsePolicies(options.policy) : undefined
      const scenario = await loadScenario(file)
      const common = { ...(seed !== undefined ? { seed } : {}), ...(options.out !== undefined ? { out: options.out } : {}) }
      const progress = progressLine()
      let summaries: SimSummary[]
      try {
        summaries = policies === undefined
          ? [(await runScenario(scenario, { ...common, onProgress: progress.update })).summary]
          : (await runPolicies(scenario, policies, { ...common, onProgress: (policy, p) => { progress.update(p, policy) } })).runs.map((r) => r.summary)
      } finally {
        progress.clear()
      }
      for (const summary of summaries) out.print(formatSummary(summary).join('\n'))
      if (policies !== undefined) {
        out.print(`policies compared on ${scenario.name}, seed ${summaries[0]?.seed ?? ''}:`)
        out.print(formatComparison(summaries).join('\n'))
        if (options.out !== undefined) out.print(`  wrote ${options.out}/<policy>/ (CSV and plots per policy), ${options.out}/policies.csv${policies.length > 1 ? `, ${options.out}/latency-cdf.svg and ${options.out}/cost-by-policy.svg` : ''}`)
      } else if (options.out !== undefined) {
        out.print(`  wrote ${options.out}/requests.csv, plants.csv, latency-cdf.svg, utilisation.svg and networks.svg`)
      }
      const lost = summaries.reduce((n, s) => n + s.lost, 0)
      if (lost > 0) throw new Error(`${lost} request(s) were never answered`)
    })
}
