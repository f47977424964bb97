import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PlantSample, RequestRow, SimSummary } from './report.js'
import { barChart, groupedBarChart, lineChart, type Series } from './svg.js'

/** The plots of a run, or of a comparison of runs, by file name. */
export type Plots = Record<string, string>

/** each plant's samples in time order, plants in the order they were first sampled */
function perPlant (samples: PlantSample[], value: (s: PlantSample) => number): Series[] {
  const series = new Map<string, Series & { last?: [number, number] }>()
  for (const s of samples) {
    const entry = series.get(s.plant) ?? { name: s.plant, points: [], step: true }
    const point: [number, number] = [s.atMs / 1000, value(s)]
    // a staircase needs only its steps: a sample equal to the one before adds nothing but bytes
    if (entry.points.at(-1)?.[1] !== point[1]) entry.points.push(point)
    entry.last = point
    series.set(s.plant, entry)
  }
  return [...series.values()].map(({ last, ...s }) => ({ ...s, points: last !== undefined && s.points.at(-1) !== last ? [...s.points, last] : s.points }))
}

/** the empirical CDF of the latencies of the VMs made, in virtual seconds */
function cdf (name: string, rows: RequestRow[]): Series {
  const latencies = rows.filter((r) => r.outcome === 'ok').map((r) => (r.latencyMs ?? 0) / 1000).sort((a, b) => a - b)
  const points: Array<[number, number]> = [[0, 0]]
  latencies.forEach((l, i) => { points.push([l, (i + 1) / latencies.length]) })
  return { name, points, step: true }
}

/** Latency CDF, one series per run (a run per policy, or just one). */
export function latencyCdf (runs: Array<{ name: string, rows: RequestRow[] }>): string {
  return lineChart({ title: 'Create latency (VMs made)', xLabel: 'latency, virtual s', yLabel: 'fraction of VMs made', yMax: 1, series: runs.map((r) => cdf(r.name, r.rows)) })
}

/** VMs held (running and being made) per plant over time. */
export function utilisation (samples: PlantSample[], title = 'VMs per plant'): string {
  return lineChart({ title, xLabel: 'time, virtual s', yLabel: 'VMs (running and being made)', series: perPlant(samples, (s) => s.vms + s.producing) })
}

/** Host-only networks (domains) in use per plant over time. */
export function networks (samples: PlantSample[], title = 'Networks (domains) per plant'): string {
  return lineChart({ title, xLabel: 'time, virtual s', yLabel: 'host-only networks in use', series: perPlant(samples, (s) => s.networks) })
}

/** Mean cost paid per VM, one bar per policy. The models price in different units: the note says so. */
export function costByPolicy (summaries: SimSummary[]): string {
  return barChart({
    title: 'Mean cost paid per VM, by policy',
    yLabel: 'mean cost paid (each model\'s own units)',
    bars: summaries.map((s) => ({ name: s.policy ?? s.scenario, value: s.meanCost, label: `${s.meanCost.toFixed(1)} (${s.ok} VMs)` })),
    note: 'each model prices in its own units (memory: per mille of host memory; random: 0..100)'
  })
}

/** Each policy's decisions over the exhaustive policy's: paper cost, imbalance and networks used (1: as good). */
export function decisionQuality (runs: Array<{ policy: string, quality: { cost: number, imbalance: number, networks: number } }>): string {
  return groupedBarChart({
    title: 'Decision quality against the exhaustive policy',
    yLabel: 'ratio to the exhaustive policy (1: the same)',
    keys: ['paper cost per VM', 'imbalance', 'networks used'],
    groups: runs.map((r) => ({ name: r.policy, values: [r.quality.cost, r.quality.imbalance, r.quality.networks] })),
    reference: 1,
    note: 'exhaustive: the paper\'s cost, every plant asked; placements priced in the paper\'s terms'
  })
}

/** The plots of one run, as written beside its CSV. */
export function runPlots (rows: RequestRow[], samples: PlantSample[], label?: string): Plots {
  const suffix = label !== undefined ? ` (${label})` : ''
  return {
    'latency-cdf.svg': latencyCdf([{ name: label ?? 'VMs made', rows }]),
    'utilisation.svg': utilisation(samples, `VMs per plant${suffix}`),
    'networks.svg': networks(samples, `Networks (domains) per plant${suffix}`)
  }
}

/** The plots comparing runs of one scenario under several policies. */
export function comparisonPlots (runs: Array<{ summary: SimSummary, rows: RequestRow[], policy: string, quality: { cost: number, imbalance: number, networks: number } }>): Plots {
  return {
    'latency-cdf.svg': latencyCdf(runs.map((r) => ({ name: r.summary.policy ?? r.summary.scenario, rows: r.rows }))),
    'cost-by-policy.svg': costByPolicy(runs.map((r) => r.summary)),
    'decision-quality.svg': decisionQuality(runs)
  }
}

/** Writes each plot into `dir`, which is made when missing; returns the file names. */
export async function writePlots (dir: string, plots: Plots): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  for (const [name, svg] of Object.entries(plots)) await writeFile(join(dir, name), svg)
  return Object.keys(plots)
}
