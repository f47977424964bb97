import test from 'ava'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { loadScenario, validateScenario } from '../../sim/scenario.js'
import { planWorkload } from '../../sim/workload.js'
import { ScenarioError } from '../../sim/errors.js'
import { seededRandom } from '../../src/interface/index.js'
import { packageRoot } from '../../src/paths.js'

const GOOD = {
  name: 'small',
  topology: { sites: [{ name: 'east', broker: true, plants: [{ name: 'e', count: 2, cost: { model: 'paper' } }] }, { name: 'solo', plants: [{ name: 's' }] }] },
  workload: {
    arrivals: { kind: 'poisson', ratePerSec: 2, requests: 200 },
    domains: { count: 5, zipf: 1.2 },
    mix: [{ spec: { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'a', run: 'echo a' }] } }]
  },
  failures: [{ plant: 'e-2', fromMs: 1000, toMs: 2000 }]
}

/** GOOD with one field changed, by a path of keys */
function bad (path: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(GOOD) as any
  let at = copy
  for (const key of path.slice(0, -1)) at = at[key]
  at[path.at(-1) as string | number] = value
  return copy
}

test('every scenario in sim/scenarios is valid', async (t) => {
  const names = (await readdir(join(packageRoot, 'sim', 'scenarios'))).filter((f) => f.endsWith('.yaml'))
  t.true(names.length >= 5)
  for (const name of names) {
    const scenario = await loadScenario(join(packageRoot, 'sim', 'scenarios', name))
    t.truthy(scenario.workload.mix[0]?.spec.actions.length, name)
  }
})

test('a bad scenario gets an error that names the field', (t) => {
  const cases: Array<[unknown, string]> = [
    [bad(['workload', 'arrivals', 'ratePerSec'], -1), 'scenario: workload.arrivals.ratePerSec: '],
    [bad(['topology', 'sites', 0, 'plants', 0, 'memoryMB'], 'lots'), 'scenario: topology.sites[0].plants[0].memoryMB: expected number'],
    [bad(['topology', 'sites', 0, 'plants', 0, 'cost', 'model'], 'cheap'), 'scenario: topology.sites[0].plants[0].cost.model: '],
    [bad(['topology', 'sites', 1, 'colour'], 'red'), 'scenario: topology.sites[1]: unknown field "colour"'],
    [bad(['failures', 0, 'plant'], 'e-3'), 'scenario: failures[0].plant: no plant is named "e-3"'],
    [bad(['failures', 0, 'toMs'], 500), 'scenario: failures[0].toMs: must be after fromMs'],
    [bad(['workload', 'mix', 0, 'spec', 'actions', 0, 'after'], ['nope']), 'scenario: workload.mix[0].spec.actions[0].after[0]: '],
    [bad(['topology', 'sites', 1, 'name'], 'east'), 'scenario: topology.sites[1].name: site "east" is named twice']
  ]
  for (const [input, start] of cases) {
    const error = t.throws(() => validateScenario(input), { instanceOf: ScenarioError })
    t.true(error.message.startsWith(start), `${error.message} should start with ${start}`)
  }
})

test('a workload is drawn from its seed alone, with Zipf-popular domains', (t) => {
  const scenario = validateScenario(GOOD)
  const one = planWorkload(scenario.workload, seededRandom(9))
  t.deepEqual(planWorkload(scenario.workload, seededRandom(9)), one)
  t.notDeepEqual(planWorkload(scenario.workload, seededRandom(10)), one)
  t.is(one.length, 200)
  t.true(one.every((r, i) => i === 0 || r.atMs >= (one[i - 1] as { atMs: number }).atMs), 'arrivals in time order')
  // 2 per second over 200 requests: about 100 s
  t.true((one.at(-1)?.atMs ?? 0) > 60_000 && (one.at(-1)?.atMs ?? 0) < 140_000)
  const count = (d: string): number => one.filter((r) => r.domain === d).length
  t.true(count('domain-1') > count('domain-2') && count('domain-2') > count('domain-5'), 'the first domain is the most popular')
})
