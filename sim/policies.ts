import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CostModelName } from '../src/pricing/index.js'
import type { Scenario } from './scenario.js'
import { runScenario, type SimProgress, type SimResult } from './run.js'
import type { SimSummary } from './report.js'
import { comparisonPlots, writePlots } from './plots.js'
import { asPolicy, parsePolicy, type Policy } from './policy.js'
import { ratio } from './quality.js'

export interface PolicyRunOptions {
  /** @default the scenario's seed */
  seed?: number
  /** a folder: each policy's CSV and plots under `<out>/<policy>/`, the comparison in `<out>/` */
  out?: string
  onProgress?: (policy: string, progress: SimProgress) => void
}

/** A policy's decisions against the exhaustive policy's on the same requests: each its value over the baseline's. */
export interface DecisionQuality {
  /** the placements' paper cost per VM made (per VM: a policy that refuses more pays less in all) */
  cost: number
  /** the busiest plant's mean VMs over the mean */
  imbalance: number
  /** host-only networks in use, mean over the samples */
  networks: number
}

export interface PolicyComparison {
  /** in the order asked, then the exhaustive baseline when it was not asked for */
  runs: Array<SimResult & { policy: string, quality: DecisionQuality }>
}

const COMPARISON_COLUMNS = ['policy', 'ok', 'refused', 'error', 'lost', 'mean_cost', 'total_cost', 'paper_cost', 'paper_cost_mean', 'cost_ratio', 'latency_p50_ms', 'latency_p95_ms', 'imbalance', 'cv', 'imbalance_ratio', 'networks_mean', 'networks_peak', 'networks_ratio'] as const

const paperMean = (s: SimSummary): number => s.ok === 0 ? 0 : s.paperCost / s.ok
const two = (n: number): string => Number.isInteger(n) ? String(n) : Number.isFinite(n) ? n.toFixed(2) : 'inf'
const three = (n: number): string => Number.isInteger(n) ? String(n) : Number.isFinite(n) ? n.toFixed(3) : 'inf'

function comparisonRow (run: { summary: SimSummary, quality: DecisionQuality }): string[] {
  const s = run.summary
  const q = run.quality
  return [s.policy ?? '', String(s.ok), String(s.refused), String(s.error), String(s.lost), two(s.meanCost), two(s.totalCost), two(s.paperCost), two(paperMean(s)), three(q.cost), two(s.latencyMs.p50), two(s.latencyMs.p95), two(s.imbalance), two(s.cv), three(q.imbalance), two(s.networks.mean), String(s.networks.peak), three(q.networks)]
}

/** The comparison as CSV, one row per policy in the order they ran. */
function comparisonCsv (runs: PolicyComparison['runs']): string {
  return [COMPARISON_COLUMNS.join(','), ...runs.map((r) => comparisonRow(r).join(','))].join('\n') + '\n'
}

/** The comparison as an aligned table for a terminal. */
export function formatComparison (runs: PolicyComparison['runs']): string[] {
  const header = ['policy', 'ok', 'refused', 'error', 'lost', 'mean cost', 'total cost', 'paper cost', 'per VM', 'x exh.', 'p50 ms', 'p95 ms', 'imbalance', 'cv', 'x exh.', 'networks', 'peak net', 'x exh.']
  const rows = [header, ...runs.map(comparisonRow)]
  const widths = header.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  return rows.map((r) => '  ' + r.map((cell, c) => c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number)).join('  '))
}

/**
 * Runs one scenario once per policy, with the same seed: the workload is drawn from its own
 * stream, so every policy serves the very same requests, and only the placement differs. The
 * exhaustive policy runs too when not asked for: each policy's decisions are measured against it.
 */
export async function runPolicies (scenario: Scenario, policies: Array<CostModelName | Policy>, options: PolicyRunOptions = {}): Promise<PolicyComparison> {
  const asked = policies.map(asPolicy)
  const all = asked.some((p) => p.exhaustive === true) ? asked : [...asked, parsePolicy('exhaustive')]
  const results: Array<SimResult & { policy: string }> = []
  for (const policy of all) {
    const result = await runScenario(scenario, {
      policy,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.out !== undefined ? { out: join(options.out, policy.name) } : {}),
      ...(options.onProgress !== undefined ? { onProgress: (p: SimProgress) => options.onProgress?.(policy.name, p) } : {})
    })
    results.push({ ...result, policy: policy.name })
  }
  const base = results[all.findIndex((p) => p.exhaustive === true)]?.summary as SimSummary
  const runs = results.map((r) => ({
    ...r,
    quality: { cost: ratio(paperMean(r.summary), paperMean(base)), imbalance: ratio(r.summary.imbalance, base.imbalance), networks: ratio(r.summary.networks.mean, base.networks.mean) }
  }))
  if (options.out !== undefined) {
    await mkdir(options.out, { recursive: true })
    await writeFile(join(options.out, 'policies.csv'), comparisonCsv(runs))
    await writePlots(options.out, comparisonPlots(runs))
  }
  return { runs }
}
