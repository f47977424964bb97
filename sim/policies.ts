import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CostModelName } from '../src/actors/plant/cost.js'
import type { Scenario } from './scenario.js'
import { runScenario, type SimProgress, type SimResult } from './run.js'
import type { SimSummary } from './report.js'
import { comparisonPlots, writePlots } from './plots.js'

export interface PolicyRunOptions {
  /** @default the scenario's seed */
  seed?: number
  /** a folder: each policy's CSV and plots under `<out>/<policy>/`, the comparison in `<out>/` */
  out?: string
  onProgress?: (policy: CostModelName, progress: SimProgress) => void
}

export interface PolicyComparison {
  runs: Array<SimResult & { policy: CostModelName }>
}

const COMPARISON_COLUMNS = ['policy', 'ok', 'refused', 'error', 'lost', 'mean_cost', 'total_cost', 'latency_p50_ms', 'latency_p95_ms', 'imbalance', 'networks_mean', 'networks_peak'] as const

const two = (n: number): string => Number.isInteger(n) ? String(n) : n.toFixed(2)

function comparisonRow (s: SimSummary): string[] {
  return [s.policy ?? '', String(s.ok), String(s.refused), String(s.error), String(s.lost), two(s.meanCost), two(s.totalCost), two(s.latencyMs.p50), two(s.latencyMs.p95), two(s.imbalance), two(s.networks.mean), String(s.networks.peak)]
}

/** The comparison as CSV, one row per policy in the order they ran. */
function comparisonCsv (summaries: SimSummary[]): string {
  return [COMPARISON_COLUMNS.join(','), ...summaries.map((s) => comparisonRow(s).join(','))].join('\n') + '\n'
}

/** The comparison as an aligned table for a terminal. */
export function formatComparison (summaries: SimSummary[]): string[] {
  const header = ['policy', 'ok', 'refused', 'error', 'lost', 'mean cost', 'total cost', 'p50 ms', 'p95 ms', 'imbalance', 'networks', 'peak net']
  const rows = [header, ...summaries.map(comparisonRow)]
  const widths = header.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  return rows.map((r) => '  ' + r.map((cell, c) => c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number)).join('  '))
}

/**
 * Runs one scenario once per policy, with the same seed: the workload is drawn from its own
 * stream, so every policy serves the very same requests, and only the plants' cost model differs.
 */
export async function runPolicies (scenario: Scenario, policies: CostModelName[], options: PolicyRunOptions = {}): Promise<PolicyComparison> {
  const runs: PolicyComparison['runs'] = []
  for (const policy of policies) {
    const result = await runScenario(scenario, {
      policy,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.out !== undefined ? { out: join(options.out, policy) } : {}),
      ...(options.onProgress !== undefined ? { onProgress: (p: SimProgress) => options.onProgress?.(policy, p) } : {})
    })
    runs.push({ ...result, policy })
  }
  if (options.out !== undefined) {
    await mkdir(options.out, { recursive: true })
    await writeFile(join(options.out, 'policies.csv'), comparisonCsv(runs.map((r) => r.summary)))
    if (runs.length > 1) await writePlots(options.out, comparisonPlots(runs))
  }
  return { runs }
}
