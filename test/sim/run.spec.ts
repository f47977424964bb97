import test from 'ava'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadScenario, type Scenario } from '../../sim/scenario.js'
import { runScenario } from '../../sim/run.js'
import { packageRoot } from '../../src/paths.js'
import { tempDir } from '../helpers/temp.js'
import { withoutHostTimers } from '../helpers/host-timers.js'
import { startSimFederation } from '../../sim/federation.js'

const scenario = async (name: string): Promise<Scenario> => await loadScenario(join(packageRoot, 'sim', 'scenarios', name))

test('the paper\'s 3.4 illustration: 13 VMs of one domain on plant a, the 14th on plant b', async (t) => {
  const { rows, summary } = await runScenario(await scenario('paper-3.4.yaml'))
  t.deepEqual(rows.map((r) => r.outcome), Array(14).fill('ok'))
  t.deepEqual(rows.map((r) => r.plant), [...Array(13).fill('a'), 'b'])
  t.deepEqual(rows.map((r) => r.cost), [50, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 50])
  t.like(summary, { requests: 14, ok: 14, lost: 0 })
})

test('whichever plant wins the first tie, the illustration holds for every seed', async (t) => {
  const paper = await scenario('paper-3.4.yaml')
  for (const seed of [1, 2, 6]) {
    const { rows } = await runScenario(paper, { seed })
    const first = rows[0]?.plant
    t.deepEqual(rows.map((r) => r.plant === first), [...Array(13).fill(true), false], `seed ${seed}`)
    t.deepEqual(rows.map((r) => r.cost), [50, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 50], `seed ${seed}`)
  }
})

test('the same scenario and seed give byte-identical CSV; another seed gives other numbers', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const failure = await scenario('plant-failure.yaml')
  const csv = async (seed: number, out: string): Promise<string[]> => {
    await runScenario(failure, { seed, out: join(dir.path, out) })
    return await Promise.all(['requests.csv', 'plants.csv'].map(async (f) => await readFile(join(dir.path, out, f), 'utf8')))
  }
  const one = await csv(5, 'one')
  t.deepEqual(await csv(5, 'two'), one)
  const other = await csv(6, 'three')
  t.not(other[0], one[0])
  t.true((one[0]?.split('\n').length ?? 0) > 80, 'a row per request')
})

test('with a plant and a broker down for a while, every request is answered or refused and none is lost', async (t) => {
  const { rows, samples, summary } = await runScenario(await scenario('plant-failure.yaml'))
  t.is(rows.length, 80)
  t.deepEqual(rows.filter((r) => r.outcome === 'lost'), [])
  t.true(rows.every((r) => r.outcome === 'ok' || r.outcome === 'refused' || r.outcome === 'error'))
  t.is(summary.ok + summary.refused + summary.error, 80)
  t.true(summary.ok > 60, `${summary.ok} VMs made`)
  // east-1 was down from 20 s to 60 s: it won nothing then, and the samples say it was down
  t.deepEqual(rows.filter((r) => r.plant === 'east-1' && r.arrivalMs > 20_000 && r.arrivalMs + (r.latencyMs ?? 0) < 60_000), [])
  t.true(samples.some((s) => s.plant === 'east-1' && !s.up && s.atMs >= 20_000 && s.atMs < 60_000))
  t.true(samples.some((s) => s.plant === 'east-1' && s.up && s.atMs >= 60_000))
  // every VM made was destroyed at the end of its lifetime, through the shop
  t.is(summary.destroyed, summary.ok)
})

test('a whole scenario runs with no host timer', async (t) => {
  const failure = await scenario('plant-failure.yaml')
  const { value, timers } = await withoutHostTimers(async () => await runScenario(failure))
  t.deepEqual(timers, [])
  t.is(value.summary.lost, 0)
})

test('a client queries, lists and destroys its VMs through the shop in the simulator', async (t) => {
  const federation = await startSimFederation({ plants: [{ peer: '12D3KooWSimPA111' }, { peer: '12D3KooWSimPB111' }] })
  t.teardown(federation.stop)
  const { clock, client } = federation
  const { classad } = await federation.create({ hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'a', run: 'echo a' }] }, 'grid')
  t.is((await clock.run(client.query(classad.vmid))).state, 'running')
  t.deepEqual((await clock.run(client.list())).vms.map((vm) => vm.vmid), [classad.vmid])
  t.deepEqual((await clock.run(client.list('12D3KooWSomeoneEise'))).vms, [], 'another client sees none of them')
  t.deepEqual(await clock.run(client.destroy(classad.vmid)), { vmid: classad.vmid, destroyed: true })
  const gone = await t.throwsAsync(clock.run(client.query(classad.vmid)))
  t.regex(gone.message, /not found/)
  t.deepEqual(await federation.plants.find((p) => p.peer === classad.plant)?.line.list(), [])
})
