import test from 'ava'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadScenario, validateScenario, type Scenario } from '../../sim/scenario.js'
import { runScenario } from '../../sim/run.js'
import { planWorkload } from '../../sim/workload.js'
import { ScenarioError } from '../../sim/errors.js'
import { drawDuration } from '../../sim/distributions.js'
import { seededRandom } from '../../src/interface/index.js'
import { packageRoot } from '../../src/paths.js'
import { tempDir } from '../helpers/temp.js'
import { withoutHostTimers } from '../helpers/host-timers.js'

const scenario = async (name: string): Promise<Scenario> => await loadScenario(join(packageRoot, 'sim', 'scenarios', name))
const SPEC = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'a', run: 'echo a' }] }

/** a small scenario of two sites, each plant answering the shop itself */
function small (fields: { topology?: object, sites?: object[], workload?: object, failures?: object[] } = {}): unknown {
  return {
    name: 'small',
    topology: { shop: { bidWindowMs: 500, orderTimeoutMs: 5000 }, sites: fields.sites ?? [{ name: 'lab', plants: [{ name: 'a' }, { name: 'b' }] }], ...fields.topology },
    workload: fields.workload ?? { arrivals: { kind: 'poisson', ratePerSec: 5, requests: 40 }, domains: { count: 3 }, mix: [{ spec: SPEC }], lifetime: { kind: 'fixed', ms: 2000 } },
    failures: fields.failures ?? []
  }
}

test('links with drawn latencies, loss, a partition and a broker failure: the same seed gives byte-identical CSV, another seed others', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const partition = await scenario('partition.yaml')
  const run = async (seed: number, out: string): Promise<{ csv: string[], lost: number | undefined }> => {
    const { summary } = await runScenario(partition, { seed, out: join(dir.path, out) })
    return { csv: await Promise.all(['requests.csv', 'plants.csv'].map(async (f) => await readFile(join(dir.path, out, f), 'utf8'))), lost: summary.messagesLost }
  }
  const one = await run(2, 'one')
  t.deepEqual(await run(2, 'two'), one)
  const other = await run(3, 'three')
  t.not(other.csv[0], one.csv[0])
  t.true((one.lost ?? 0) > 0, 'messages were lost')
})

test('with a broker down and a site cut from the shop, every request is answered or refused and none is lost', async (t) => {
  const { rows, summary } = await runScenario(await scenario('partition.yaml'))
  t.is(rows.length, 150)
  t.deepEqual(rows.filter((r) => r.outcome === 'lost'), [])
  t.is(summary.ok + summary.refused + summary.error, 150)
  t.true(summary.ok > 80, `${summary.ok} VMs made`)
  // east was cut from the shop from 20 s to 50 s: no VM of it was answered meanwhile
  const during = rows.filter((r) => r.arrivalMs > 20_000 && r.arrivalMs + (r.latencyMs ?? 0) < 50_000)
  t.true(during.length > 5)
  t.deepEqual(during.filter((r) => r.plant?.startsWith('east') === true), [])
  t.true(rows.some((r) => r.plant?.startsWith('east') === true && r.arrivalMs > 50_000), 'east serves again once healed')
  // the west broker was down from 30 s to 45 s
  t.deepEqual(rows.filter((r) => r.plant?.startsWith('west') === true && r.arrivalMs > 30_000 && r.arrivalMs + (r.latencyMs ?? 0) < 45_000), [])
})

test('lost messages are handled by the actors\' timeouts, deterministically, with no host timer', async (t) => {
  const lossy = validateScenario(small({ topology: { loss: 0.15 } }))
  const { value: one, timers } = await withoutHostTimers(async () => await runScenario(lossy, { seed: 5 }))
  t.deepEqual(timers, [])
  t.deepEqual(one.rows.filter((r) => r.outcome === 'lost'), [])
  t.true((one.summary.messagesLost ?? 0) > 5, `${one.summary.messagesLost ?? 0} messages lost`)
  t.true(one.rows.some((r) => (r.latencyMs ?? 0) >= 500), 'some requests waited out a lost message')
  const again = await runScenario(lossy, { seed: 5 })
  t.deepEqual(again.rows, one.rows)
  t.is(again.summary.messagesLost, one.summary.messagesLost)
  t.notDeepEqual((await runScenario(lossy, { seed: 6 })).rows, one.rows)
  // without loss nothing is lost, and the links are not even modelled
  t.is((await runScenario(validateScenario(small()))).summary.messagesLost, undefined)
})

test('a line profile draws the measured QEMU latencies from the seed', async (t) => {
  const qemu = validateScenario(small({
    sites: [{ name: 'lab', plants: [{ name: 'a', memoryMB: 65536, cost: { maxVms: 1000 }, line: { profile: 'qemu-tcg' } }] }],
    workload: { arrivals: { kind: 'periodic', everyMs: 5000, requests: 40 }, domains: { names: ['grid'] }, mix: [{ spec: { ...SPEC, actions: [{ id: 'a', run: 'echo a' }, { id: 'b', run: 'echo b', after: ['a'] }] } }] }
  }))
  const latencies = (await runScenario(qemu, { seed: 1 })).rows.map((r) => r.latencyMs ?? 0)
  t.deepEqual((await runScenario(qemu, { seed: 1 })).rows.map((r) => r.latencyMs ?? 0), latencies)
  t.true(new Set(latencies).size > 20, 'latencies vary')
  const sorted = [...latencies].sort((a, b) => a - b)
  const median = sorted[20] as number
  // clone 250 + resume 7 + 2 actions of 165 (medians), plus a few ms of messages: about 600 ms, as bench/create measured 589
  t.true(median > 450 && median < 800, `median ${median} ms`)
  // a lognormal fitted to p50 and p99 gives those quantiles
  const random = seededRandom(4)
  const draws = Array.from({ length: 20_000 }, () => drawDuration({ kind: 'lognormal', p50: 250, p99: 376 }, random)).sort((a, b) => a - b)
  t.true(Math.abs((draws[10_000] as number) - 250) <= 5, `p50 ${draws[10_000] ?? 0}`)
  t.true(Math.abs((draws[19_800] as number) - 376) <= 15, `p99 ${draws[19_800] ?? 0}`)
})

test('bursty arrivals come in bursts with silences between them; batches at once', (t) => {
  const bursty = validateScenario(small({ workload: { arrivals: { kind: 'bursty', ratePerSec: 20, onMs: 2000, offMs: 8000, requests: 1000 }, domains: { count: 3 }, mix: [{ spec: SPEC }] } }))
  const times = planWorkload(bursty.workload, seededRandom(3)).map((r) => r.atMs)
  t.deepEqual(planWorkload(bursty.workload, seededRandom(3)).map((r) => r.atMs), times)
  t.is(times.length, 1000)
  const gaps = times.slice(1).map((x, i) => x - (times[i] as number))
  t.true(gaps.every((g) => g >= 0))
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length
  const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) * (g - mean), 0) / gaps.length)
  // Poisson gaps have a coefficient of variation of 1; on/off makes it much larger
  t.true(sd / mean > 2, `cv ${sd / mean}`)
  t.true(gaps.filter((g) => g > 2000).length > 10, 'silences between bursts')
  // 20 per second for a fifth of the time: about 4 per second overall
  const rate = 1000 * times.length / (times.at(-1) as number)
  t.true(rate > 2.5 && rate < 6, `${rate} per second`)
  const batch = validateScenario(small({ workload: { arrivals: { kind: 'batch', everyMs: 1000, size: 4, requests: 10 }, domains: { count: 3 }, mix: [{ spec: SPEC }] } }))
  t.deepEqual(planWorkload(batch.workload, seededRandom(1)).map((r) => r.atMs), [0, 0, 0, 0, 1000, 1000, 1000, 1000, 2000, 2000])
})

test('a CSV trace is replayed, relative to the scenario file; a bad row names the file, line and column', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const trace = ['time_ms,domain,memory_mb,actions,lifetime_ms', '0,grid,64,net;app,3000', '500,lab,128,,', '200,grid,64,net;app,1000', '500,"lab",64,net;db,'].join('\n') + '\n'
  await writeFile(join(dir.path, 'requests.csv'), trace)
  const yaml = 'name: replay\ntopology:\n  sites:\n    - name: lab\n      plants: [{ name: a }, { name: b }]\nworkload:\n  trace: requests.csv\n'
  await writeFile(join(dir.path, 'replay.yaml'), yaml)
  const replay = await loadScenario(join(dir.path, 'replay.yaml'))
  t.is(replay.workload.mix.length, 3, 'one spec per distinct memory and actions')
  t.deepEqual(replay.workload.mix[0]?.spec.actions.map((a) => a.id), ['net', 'app'])
  const { rows, summary } = await runScenario(replay)
  t.deepEqual(rows.map((r) => [r.arrivalMs, r.domain, r.spec]), [[0, 'grid', 0], [200, 'grid', 0], [500, 'lab', 1], [500, 'lab', 2]])
  t.is(summary.ok, 4)
  t.deepEqual(rows.map((r) => r.destroyedMs !== undefined), [true, true, false, false])
  t.true((rows[0]?.destroyedMs ?? 0) >= 3000)

  const bad = async (csv: string, message: string): Promise<void> => {
    await writeFile(join(dir.path, 'requests.csv'), csv)
    const error = await t.throwsAsync(loadScenario(join(dir.path, 'replay.yaml')), { instanceOf: ScenarioError })
    t.is(error?.message, `${join(dir.path, 'requests.csv')}: ${message}`)
  }
  await bad('time_ms,domain,memory_mb,actions\n0,grid,64,a\n10,grid,lots,a\n', 'line 3, column 3 (memory_mb): must be a whole number of MB, not "lots"')
  await bad('time_ms,domain,memory_mb,actions\n-5,grid,64,a\n', 'line 2, column 1 (time_ms): must be a whole number of ms from 0, not "-5"')
  await bad('time_ms,domain,memory_mb,actions\n0,grid,64,a;b c\n', 'line 2, column 4 (actions): ' + (await specProblem('b c')))
  await bad('time_ms,domain,memory_mb,actions\n0,grid,64\n', 'line 2: has 3 fields, the header 4')
  await bad('time_ms,domain,size\n0,grid,64\n', 'line 1, column 3 (size): unknown column "size"; the columns are time_ms, domain, spec, memory_mb, actions, lifetime_ms')
  await bad('time_ms,domain,spec\n0,grid,2\n', 'line 2, column 3 (spec): must be an index into workload.mix, which is empty, not "2"')
})

/** the planner's own words for an action id it refuses */
async function specProblem (id: string): Promise<string> {
  try {
    validateScenario(small({ workload: { arrivals: { kind: 'fixed', atMs: [0] }, domains: { count: 1 }, mix: [{ spec: { ...SPEC, actions: [{ id: 'a', run: 'echo a' }, { id, run: `echo ${id}`, after: ['a'] }] } }] } }))
  } catch (err: any) {
    return err.message.replace(/^.*?actions\[1\]\.id: /, '')
  }
  return 'accepted'
}

test('a bad link, line or partition gets an error that names the field', (t) => {
  const cases: Array<[unknown, string]> = [
    [small({ topology: { loss: 1.5 } }), 'scenario: topology.loss: '],
    [small({ topology: { latencyMs: { kind: 'lognormal', p50: 10, p99: 5 } } }), 'scenario: topology.latencyMs'],
    [small({ sites: [{ name: 'lab', plants: [{ name: 'a', line: { profile: 'vmware' } }] }] }), 'scenario: topology.sites[0].plants[0].line.profile: '],
    [small({ failures: [{ partition: [['shop'], ['nowhere']], fromMs: 0, toMs: 10 }] }), 'scenario: failures[0].partition[1][0]: "nowhere" is not shop, a site, broker:<site with a broker> or a plant'],
    [small({ failures: [{ partition: [['shop'], ['broker:lab']], fromMs: 0 }] }), 'scenario: failures[0].partition[1][0]: '],
    [small({ failures: [{ plant: 'a', partition: [['shop'], ['lab']], fromMs: 0 }] }), 'scenario: failures[0]: name one of a plant, a broker or a partition'],
    [small({ workload: { trace: 'x.csv', arrivals: { kind: 'fixed', atMs: [0] } } }), 'scenario: workload.arrivals: a trace gives the requests: leave this out'],
    [small({ workload: { domains: { count: 1 }, mix: [{ spec: SPEC }] } }), 'scenario: workload.arrivals: give arrivals (or a trace)']
  ]
  for (const [input, start] of cases) {
    const error = t.throws(() => validateScenario(input), { instanceOf: ScenarioError })
    t.true(error?.message.startsWith(start), `${error?.message ?? ''} should start with ${start}`)
  }
})
