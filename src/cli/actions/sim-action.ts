import { loadScenario } from '../../../sim/scenario.js'
import { runScenario, type SimProgress } from '../../../sim/run.js'
import { formatSummary, type SimSummary } from '../../../sim/report.js'
import { formatComparison, runPolicies } from '../../../sim/policies.js'
import { parsePolicy, type Policy } from '../../../sim/policy.js'
import { UnknownPolicyError } from '../../../sim/errors.js'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'

function parseSeed (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new UsageError(`--seed must be a whole number from 0 to 4294967295, not "${value}"`)
  return n
}

function parsePolicies (value: string): Policy[] {
  const names = value.split(',').map((p) => p.trim())
  const policies: Policy[] = []
  for (const name of names) {
    let policy: Policy
    try {
      policy = parsePolicy(name)
    } catch (err: unknown) {
      if (err instanceof UnknownPolicyError) throw new UsageError(`--policy: ${err.message}`)
      throw err
    }
    if (policies.some((p) => p.name === policy.name)) throw new UsageError(`--policy names "${name}" twice`)
    policies.push(policy)
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

export async function runSim (file: string, options: { seed?: string, out?: string, policy?: string }, out: Output): Promise<void> {
  const seed = options.seed !== undefined ? parseSeed(options.seed) : undefined
  const policies = options.policy !== undefined ? parsePolicies(options.policy) : undefined
  const scenario = await loadScenario(file)
  const common = { ...(seed !== undefined ? { seed } : {}), ...(options.out !== undefined ? { out: options.out } : {}) }
  const progress = progressLine()
  let summaries: SimSummary[]
  let comparison: Awaited<ReturnType<typeof runPolicies>> | undefined
  try {
    if (policies === undefined) summaries = [(await runScenario(scenario, { ...common, onProgress: progress.update })).summary]
    else {
      comparison = await runPolicies(scenario, policies, { ...common, onProgress: (policy, p) => { progress.update(p, policy) } })
      summaries = comparison.runs.map((r) => r.summary)
    }
  } finally {
    progress.clear()
  }
  for (const summary of summaries) out.print(formatSummary(summary).join('\n'))
  if (comparison !== undefined) {
    out.print(`policies compared on ${scenario.name}, seed ${summaries[0]?.seed ?? ''} (x exh.: over the exhaustive policy, the paper's cost with every plant asked):`)
    out.print(formatComparison(comparison.runs).join('\n'))
    if (options.out !== undefined) out.print(`  wrote ${options.out}/<policy>/ (CSV and plots per policy), ${options.out}/policies.csv, latency-cdf.svg, cost-by-policy.svg and decision-quality.svg`)
  } else if (options.out !== undefined) {
    out.print(`  wrote ${options.out}/requests.csv, plants.csv, latency-cdf.svg, utilisation.svg and networks.svg`)
  }
  const lost = summaries.reduce((n, s) => n + s.lost, 0)
  if (lost > 0) throw new Error(`${lost} request(s) were never answered`)
}
