import test from 'ava'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadScenario } from '../../sim/scenario.js'
import { runPolicies } from '../../sim/policies.js'
import { costByPolicy, decisionQuality, latencyCdf, networks, utilisation } from '../../sim/plots.js'
import { fmt, lineChart, ticks } from '../../sim/svg.js'
import type { PlantSample, RequestRow } from '../../sim/report.js'
import { packageRoot } from '../../src/paths.js'
import { tempDir } from '../helpers/temp.js'
import { parseXml, seriesNames } from '../helpers/xml.js'

const sample = (atMs: number, plant: string, vms: number, nets: number): PlantSample => ({ atMs, plant, up: true, vms, producing: 0, networks: nets })
const row = (id: string, latencyMs: number): RequestRow => ({ id, arrivalMs: 0, latencyMs, outcome: 'ok', domain: 'd', spec: 0 })

test('utilisation and networks plots have one series per plant, in order, and parse as XML', (t) => {
  const samples = [sample(0, 'a', 0, 0), sample(0, 'b', 0, 0), sample(1000, 'a', 3, 1), sample(1000, 'b', 1, 2)]
  for (const svg of [utilisation(samples), networks(samples)]) {
    t.is(parseXml(svg)[0], 'svg')
    t.deepEqual(seriesNames(svg), ['a', 'b'])
  }
  t.regex(utilisation(samples), /VMs per plant/)
})

test('the latency CDF has one series per run (VMs made only); cost by policy one bar per policy', (t) => {
  const svg = latencyCdf([{ name: 'paper', rows: [row('r1', 100), row('r2', 300)] }, { name: 'warm & co', rows: [row('r1', 50), { ...row('r2', 0), outcome: 'refused' }] }])
  parseXml(svg)
  t.deepEqual(seriesNames(svg), ['paper', 'warm &amp; co'])
  const bars = costByPolicy(['paper', 'memory'].map((policy, i) => ({ policy, meanCost: 10 * (i + 1), ok: 2 } as any)))
  parseXml(bars)
  t.deepEqual(seriesNames(bars), ['paper', 'memory'])
  t.regex(bars, /20\.0 \(2 VMs\)/)
})

test('charts are pure: the same data give the same bytes, and numbers are written short', (t) => {
  const chart = { title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[0, 0], [1 / 3, 2 / 3]] as Array<[number, number]> }] }
  t.is(lineChart(chart), lineChart(structuredClone(chart)))
  t.notRegex(lineChart(chart), /\d\.\d{3}/)
  t.is(fmt(-0.001), '0')
  t.deepEqual(ticks(9), [0, 2, 4, 6, 8, 10])
  t.deepEqual(ticks(0.9), [0, 0.2, 0.4, 0.6, 0.8, 1])
})

test('a policy run writes the plots beside its CSV: one series per plant, and per policy in the comparison', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const scenario = await loadScenario(join(packageRoot, 'sim', 'scenarios', 'plant-failure.yaml'))
  await runPolicies(scenario, ['paper', 'random'], { out: dir.path })
  const plants = ['east-1', 'east-2', 'east-3', 'west-1', 'west-2', 'solo']
  for (const policy of ['paper', 'random']) {
    for (const file of ['utilisation.svg', 'networks.svg']) {
      const svg = await readFile(join(dir.path, policy, file), 'utf8')
      parseXml(svg)
      t.deepEqual(seriesNames(svg), plants, `${policy}/${file}`)
    }
    t.deepEqual(seriesNames(await readFile(join(dir.path, policy, 'latency-cdf.svg'), 'utf8')), [policy])
  }
  // the exhaustive baseline ran too
  for (const file of ['latency-cdf.svg', 'cost-by-policy.svg', 'decision-quality.svg']) {
    const svg = await readFile(join(dir.path, file), 'utf8')
    parseXml(svg)
    t.deepEqual(seriesNames(svg), ['paper', 'random', 'exhaustive'], file)
  }
})

test('the decision-quality chart: a group of three bars per policy, an infinite ratio drawn to the top and named', (t) => {
  const runs = [
    { policy: 'memory', quality: { cost: 0.65, imbalance: 0.5, networks: 1.8 } },
    { policy: 'choices-2', quality: { cost: Number.POSITIVE_INFINITY, imbalance: 1.2, networks: 1 } },
    { policy: 'exhaustive', quality: { cost: 1, imbalance: 1, networks: 1 } }
  ]
  const svg = decisionQuality(runs)
  t.is(decisionQuality(runs), svg, 'the same data give the same bytes')
  t.deepEqual([...svg.matchAll(/<g class="series" data-name="([^"]+)">/g)].map((m) => m[1]), ['memory', 'choices-2', 'exhaustive'])
  t.is(svg.match(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+" fill/g)?.length, 12, 'nine bars and a legend swatch per key')
  t.regex(svg, />inf</)
  t.regex(svg, />1\.8</)
  t.regex(svg, /stroke-dasharray/, 'the line at 1')
})
