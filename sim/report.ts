import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { coefficientOfVariation, paperCostOf, type Pricing } from './quality.js'

/** What became of one request. `lost`: never answered, which the federation must not do. */
export type Outcome = 'ok' | 'refused' | 'error' | 'lost'

export interface RequestRow {
  id: string
  /** virtual ms after the start */
  arrivalMs: number
  /** from arrival to the shop's answer, virtual ms */
  latencyMs?: number
  outcome: Outcome
  domain: string
  spec: number
  /** the winning plant's scenario name */
  plant?: string
  cost?: number
  /** plants ordered, the winner included */
  attempts?: number
  offers?: number
  /** when the VM was destroyed at the end of its lifetime, virtual ms */
  destroyedMs?: number
  /** why it was refused or failed, or why its destroy failed */
  reason?: string
}

export interface PlantSample { atMs: number, plant: string, up: boolean, vms: number, producing: number, networks: number }

export interface PlantSummary {
  plant: string
  /** requests it won */
  wins: number
  /** most VMs (running and in production) it held at a sample */
  peakVms: number
  /** mean VMs (running and in production) over the samples */
  meanVms: number
}

export interface SimSummary {
  scenario: string
  seed: number
  /** the cost model every plant bid with, when the run set one for all */
  policy?: string
  requests: number
  ok: number
  refused: number
  error: number
  lost: number
  destroyed: number
  /** over the requests that got a VM, virtual ms */
  latencyMs: { p50: number, p95: number, max: number }
  /** mean cost paid per VM */
  meanCost: number
  /** cost paid for all VMs */
  totalCost: number
  /** the busiest plant's mean VMs over the mean of all plants' (1: perfectly even; plants down count too) */
  imbalance: number
  /** the coefficient of variation of the plants' mean VMs (0: perfectly even) */
  cv: number
  /** the placements priced in the paper's terms, whatever model the plants bid with (quality.ts) */
  paperCost: number
  /** host-only networks in use in the whole federation: mean and peak over the samples */
  networks: { mean: number, peak: number }
  /** messages lost to link loss and partitions, when the links were modelled */
  messagesLost?: number
  /** virtual ms from the start to the last event of the run */
  endMs: number
  plants: PlantSummary[]
  /** why the run stopped before every request was answered */
  failure?: string
}

const REQUEST_COLUMNS = ['id', 'arrival_ms', 'latency_ms', 'outcome', 'domain', 'spec', 'plant', 'cost', 'attempts', 'offers', 'destroyed_ms', 'reason'] as const
const PLANT_COLUMNS = ['at_ms', 'plant', 'up', 'vms', 'producing', 'networks'] as const

/** a number as it is written: integers as they are, others to the microsecond, so output is stable */
function num (n: number | undefined): string {
  if (n === undefined) return ''
  return Number.isInteger(n) ? String(n) : n.toFixed(3)
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled */
function field (s: string | undefined): string {
  if (s === undefined) return ''
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

function requestsCsv (rows: RequestRow[]): string {
  const lines = rows.map((r) => [field(r.id), num(r.arrivalMs), num(r.latencyMs), r.outcome, field(r.domain), num(r.spec), field(r.plant), num(r.cost), num(r.attempts), num(r.offers), num(r.destroyedMs), field(r.reason)].join(','))
  return [REQUEST_COLUMNS.join(','), ...lines].join('\n') + '\n'
}

function plantsCsv (samples: PlantSample[]): string {
  const lines = samples.map((s) => [num(s.atMs), field(s.plant), s.up ? '1' : '0', num(s.vms), num(s.producing), num(s.networks)].join(','))
  return [PLANT_COLUMNS.join(','), ...lines].join('\n') + '\n'
}

/** Writes requests.csv and plants.csv into `dir`, which is made when missing. */
export async function writeReport (dir: string, rows: RequestRow[], samples: PlantSample[]): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'requests.csv'), requestsCsv(rows))
  await writeFile(join(dir, 'plants.csv'), plantsCsv(samples))
}

function quantile (sorted: number[], q: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
}

/** the federation's networks in use at each sample time */
function networksOverTime (samples: PlantSample[]): number[] {
  const byTime = new Map<number, number>()
  for (const s of samples) byTime.set(s.atMs, (byTime.get(s.atMs) ?? 0) + s.networks)
  return [...byTime.values()]
}

export function summarize (run: { scenario: string, seed: number, policy?: string, endMs: number, rows: RequestRow[], samples: PlantSample[], pricing?: Pricing, messagesLost?: number, failure?: string }): SimSummary {
  const ok = run.rows.filter((r) => r.outcome === 'ok')
  const latencies = ok.map((r) => r.latencyMs ?? 0).sort((a, b) => a - b)
  const plants = new Map<string, PlantSummary & { total: number, count: number }>()
  for (const s of run.samples) {
    const p = plants.get(s.plant) ?? { plant: s.plant, wins: 0, peakVms: 0, meanVms: 0, total: 0, count: 0 }
    const vms = s.vms + s.producing
    p.peakVms = Math.max(p.peakVms, vms)
    p.total += vms
    p.count++
    plants.set(s.plant, p)
  }
  for (const r of ok) {
    const p = plants.get(r.plant ?? '')
    if (p !== undefined) p.wins++
  }
  const count = (outcome: RequestRow['outcome']): number => run.rows.filter((r) => r.outcome === outcome).length
  const means = [...plants.values()].map((p) => p.count === 0 ? 0 : p.total / p.count)
  const meanOfMeans = means.reduce((a, b) => a + b, 0) / Math.max(1, means.length)
  const totalCost = ok.reduce((sum, r) => sum + (r.cost ?? 0), 0)
  const networks = networksOverTime(run.samples)
  return {
    scenario: run.scenario,
    seed: run.seed,
    ...(run.policy !== undefined ? { policy: run.policy } : {}),
    requests: run.rows.length,
    ok: ok.length,
    refused: count('refused'),
    error: count('error'),
    lost: count('lost'),
    destroyed: run.rows.filter((r) => r.destroyedMs !== undefined).length,
    latencyMs: { p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), max: latencies.at(-1) ?? 0 },
    meanCost: ok.length === 0 ? 0 : totalCost / ok.length,
    totalCost,
    imbalance: meanOfMeans === 0 ? 1 : Math.max(...means) / meanOfMeans,
    cv: coefficientOfVariation(means),
    paperCost: paperCostOf(run.rows, run.pricing ?? new Map()),
    networks: { mean: networks.length === 0 ? 0 : networks.reduce((a, b) => a + b, 0) / networks.length, peak: Math.max(0, ...networks) },
    ...(run.messagesLost !== undefined ? { messagesLost: run.messagesLost } : {}),
    endMs: run.endMs,
    plants: [...plants.values()].map(({ total, count, ...p }) => ({ ...p, meanVms: count === 0 ? 0 : total / count })),
    ...(run.failure !== undefined ? { failure: run.failure } : {})
  }
}

/** The summary as a few lines of text for a terminal. */
export function formatSummary (s: SimSummary): string[] {
  const lines = [
    `scenario ${s.scenario}, seed ${s.seed}${s.policy !== undefined ? `, policy ${s.policy}` : ''}: ${s.requests} requests in ${num(s.endMs / 1000)} virtual s`,
    `  ok ${s.ok}   refused ${s.refused}   error ${s.error}   lost ${s.lost}   destroyed ${s.destroyed}`,
    `  latency (virtual ms) p50 ${num(s.latencyMs.p50)}   p95 ${num(s.latencyMs.p95)}   max ${num(s.latencyMs.max)}   mean cost ${num(s.meanCost)}`
  ]
  lines.push(`  networks in use mean ${s.networks.mean.toFixed(2)}   peak ${s.networks.peak}   imbalance ${s.imbalance.toFixed(2)} (cv ${s.cv.toFixed(2)})   paper cost ${num(s.paperCost)}${s.messagesLost !== undefined ? `   messages lost ${s.messagesLost}` : ''}`)
  const width = Math.max(5, ...s.plants.map((p) => p.plant.length))
  lines.push(`  ${'plant'.padEnd(width)}  ${'wins'.padStart(6)}  ${'peak VMs'.padStart(8)}  ${'mean VMs'.padStart(8)}`)
  for (const p of s.plants) lines.push(`  ${p.plant.padEnd(width)}  ${String(p.wins).padStart(6)}  ${String(p.peakVms).padStart(8)}  ${p.meanVms.toFixed(2).padStart(8)}`)
  if (s.failure !== undefined) lines.push(`  the run stopped early: ${s.failure}`)
  return lines
}
