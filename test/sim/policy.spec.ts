import test from 'ava'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { loadScenario, validateScenario, type Scenario } from '../../sim/scenario.js'
import { runScenario } from '../../sim/run.js'
import { runPolicies } from '../../sim/policies.js'
import { parsePolicy } from '../../sim/policy.js'
import { COST_MODELS } from '../../src/pricing/index.js'
import { packageRoot } from '../../src/paths.js'
import { tempDir } from '../helpers/temp.js'
import { withoutHostTimers } from '../helpers/host-timers.js'

const scenario = async (name: string): Promise<Scenario> => await loadScenario(join(packageRoot, 'sim', 'scenarios', name))
const files = ['requests.csv', 'plants.csv', 'latency-cdf.svg', 'utilisation.svg', 'networks.svg']

test('each policy run is deterministic: the same seed gives the same CSV and plots per policy', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const failure = await scenario('plant-failure.yaml')
  await runPolicies(failure, [...COST_MODELS], { seed: 4, out: join(dir.path, 'one') })
  await runPolicies(failure, [...COST_MODELS], { seed: 4, out: join(dir.path, 'two') })
  const read = async (run: string, policy: string, file: string): Promise<string> => await readFile(join(dir.path, run, policy, file), 'utf8')
  for (const policy of COST_MODELS) {
    for (const file of files) t.is(await read('two', policy, file), await read('one', policy, file), `${policy}/${file}`)
  }
  for (const file of ['policies.csv', 'latency-cdf.svg', 'cost-by-policy.svg', 'decision-quality.svg']) {
    t.is(await readFile(join(dir.path, 'two', file), 'utf8'), await readFile(join(dir.path, 'one', file), 'utf8'), file)
  }
  t.deepEqual((await readdir(join(dir.path, 'one'))).sort(), ['cost-by-policy.svg', 'decision-quality.svg', 'exhaustive', 'latency-cdf.svg', 'memory', 'paper', 'policies.csv', 'random', 'warm'])
  const table = (await readFile(join(dir.path, 'one', 'policies.csv'), 'utf8')).trim().split('\n')
  t.is(table[0], 'policy,ok,refused,error,lost,mean_cost,total_cost,paper_cost,paper_cost_mean,cost_ratio,latency_p50_ms,latency_p95_ms,imbalance,cv,imbalance_ratio,networks_mean,networks_peak,networks_ratio')
  t.deepEqual(table.slice(1).map((l) => l.split(',')[0]), [...COST_MODELS, 'exhaustive'])
  // the policies see the very same requests, and place them differently
  const requests = await Promise.all(COST_MODELS.map(async (p) => await read('one', p, 'requests.csv')))
  const column = (csv: string, k: number): string[] => csv.trim().split('\n').slice(1).map((l) => l.split(',')[k] as string)
  for (const csv of requests) t.deepEqual(column(csv, 1), column(requests[0] as string, 1), 'the same arrivals')
  t.is(new Set(requests.map((csv) => column(csv, 6).join())).size, COST_MODELS.length, 'each policy places the VMs its own way')
})

test('--policy overrides every plant\'s model; the paper policy keeps the 13/14 illustration', async (t) => {
  const paper = await scenario('paper-3.4.yaml')
  t.deepEqual((await runScenario(paper, { policy: 'paper' })).rows.map((r) => r.cost), [50, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 50])
  const memory = await runScenario(paper, { policy: 'memory' })
  t.is(memory.summary.policy, 'memory')
  // 64 MB of 8192 after the first VM: 8 per mille, then 16, ...; the memory model spreads the VMs
  t.deepEqual(memory.rows.slice(0, 2).map((r) => r.cost), [8, 8])
  t.true(memory.rows.filter((r) => r.plant === 'a').length <= 8)
})

test('the random policy is seeded: the same seed gives the same bids, another seed others, with no host timer', async (t) => {
  const failure = await scenario('plant-failure.yaml')
  const costs = async (seed: number): Promise<Array<number | undefined>> => (await runScenario(failure, { seed, policy: 'random' })).rows.map((r) => r.cost)
  const { value: one, timers } = await withoutHostTimers(async () => await costs(3))
  t.deepEqual(timers, [])
  t.deepEqual(await costs(3), one)
  t.notDeepEqual(await costs(8), one)
  t.true(one.every((c) => c === undefined || (Number.isInteger(c) && c >= 0 && c <= 100)))
})

test('a scenario sets the policy per plant, and learning', (t) => {
  const mixed = validateScenario({
    name: 'mixed',
    topology: { sites: [{ name: 'lab', plants: [{ name: 'a', cost: { model: 'warm' }, learning: { after: 2 } }, { name: 'b', cost: { model: 'random', maxRandomCost: 10 } }] }] },
    workload: { arrivals: { kind: 'fixed', atMs: [0] }, domains: { names: ['grid'] }, mix: [{ spec: { hardware: { memoryMB: 64, os: 'linux' }, actions: [] } }] }
  })
  t.like(mixed.topology.sites[0]?.plants[0], { cost: { model: 'warm' }, learning: { after: 2 } })
  t.like(mixed.topology.sites[0]?.plants[1], { cost: { model: 'random', maxRandomCost: 10 } })
  const bad = { name: 'bad', topology: { sites: [{ name: 'lab', plants: [{ name: 'a', cost: { model: 'cheapest' } }] }] }, workload: { arrivals: { kind: 'fixed', atMs: [0] }, domains: { names: ['grid'] }, mix: [{ spec: {} }] } }
  t.throws(() => validateScenario(bad), { message: /^scenario: topology\.sites\[0\]\.plants\[0\]\.cost\.model: / })
})

test('decision quality: each policy\'s paper cost, imbalance and networks against the exhaustive policy, whose ratios are 1', async (t) => {
  const failure = await scenario('plant-failure.yaml')
  const { runs } = await runPolicies(failure, ['paper', parsePolicy('d-choices'), 'memory'])
  t.deepEqual(runs.map((r) => r.policy), ['paper', 'choices-2', 'memory', 'exhaustive'], 'the baseline runs when not asked for')
  const exhaustive = runs[3]
  t.deepEqual(exhaustive?.quality, { cost: 1, imbalance: 1, networks: 1 })
  for (const run of runs) {
    t.is(run.summary.lost, 0, run.policy)
    t.true(run.summary.paperCost > 0 && run.summary.cv > 0, run.policy)
    for (const value of Object.values(run.quality)) t.true(Number.isFinite(value) && value > 0, `${run.policy}: ${JSON.stringify(run.quality)}`)
    const perVm = (s: { paperCost: number, ok: number } | undefined): number => (s?.paperCost ?? 0) / (s?.ok ?? 1)
    t.is(run.quality.cost, perVm(run.summary) / perVm(exhaustive?.summary))
  }
  // the exhaustive shop hears every plant (6), the paper one its 2 brokers and the lone plant, d choices 2 at most
  const offers = (policy: string): number => Math.max(...(runs.find((r) => r.policy === policy)?.rows ?? []).map((r) => r.offers ?? 0))
  t.is(offers('exhaustive'), 6)
  t.is(offers('paper'), 3)
  t.true(offers('choices-2') <= 2)
  // the memory model does not price networks: it opens more of them than the paper's cost
  t.true((runs[2]?.quality.networks ?? 0) > (runs[0]?.quality.networks ?? 0))
})

test('the exhaustive policy calls every plant on every request, with no broker; the paper policy\'s brokers call one plant of their site', async (t) => {
  const spec = { hardware: { memoryMB: 128, os: 'linux' }, actions: [{ id: 'net', run: 'echo ok' }] }
  const sites = validateScenario({
    name: 'sites',
    topology: {
      sites: [
        { name: 'east', broker: true, plants: [{ name: 'east', count: 3, line: { cloneMs: 40, actionMs: 100 } }] },
        { name: 'west', broker: true, plants: [{ name: 'west', count: 3, line: { cloneMs: 40, actionMs: 100 } }] },
        { name: 'solo', plants: [{ name: 'solo', line: { cloneMs: 40, actionMs: 100 } }] }
      ]
    },
    workload: { arrivals: { kind: 'periodic', everyMs: 2000, requests: 8 }, domains: { names: ['grid', 'lab'] }, mix: [{ spec }], lifetime: { kind: 'fixed', ms: 5000 } }
  })
  const callsIn = async (policy: string): Promise<Map<string, number>> => {
    const calls = new Map<string, number>()
    const { summary } = await runScenario(sites, { policy: parsePolicy(policy), trace: (node, message) => { if (message.type === 'bid.call') calls.set(node, (calls.get(node) ?? 0) + 1) } })
    t.is(summary.ok, 8, policy)
    return calls
  }
  const plants = ['east-1', 'east-2', 'east-3', 'west-1', 'west-2', 'west-3', 'solo']
  const exhaustive = await callsIn('exhaustive')
  t.deepEqual([...exhaustive.keys()].sort(), [...plants].sort(), 'no broker in the exhaustive run')
  for (const plant of plants) t.is(exhaustive.get(plant), 8, `${plant} heard every call`)
  const paper = await callsIn('paper')
  t.is(paper.get('broker:east'), 8)
  t.is(paper.get('broker:west'), 8)
  t.is(paper.get('solo'), 8)
  const siteCalls = (site: string): number => [1, 2, 3].reduce((sum, i) => sum + (paper.get(`${site}-${i}`) ?? 0), 0)
  t.is(siteCalls('east'), 8, 'one confirmation per request at east')
  t.is(siteCalls('west'), 8, 'one confirmation per request at west')
})
