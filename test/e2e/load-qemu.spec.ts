import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultGoldenShmDir } from '../../src/daemon/create-line.js'
import { qemuTest, pidsMentioning } from '../hypervisor/qemu-helpers.js'
import { killMentioning } from '../helpers/hypervisors.js'
import { countOutcomes, destroyAll, fireCreates, ledgerProblems, listAll, warmPlants, loadTest } from '../helpers/load.js'

const qtest = qemuTest()
const spec = { hardware: { memoryMB: 128, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }
const CREATES = 12

qtest('12 QEMU creates in flight on two QEMU plant processes: each answered once, no VM lost or duplicated, none left', async (t) => {
  t.timeout(240_000)
  const run = await loadTest(t, {
    prefix: 'vmplant-lq-',
    // the plants were killed: QEMU processes outlive them, and are found by their folder
    afterKill: async (federation, dir) => {
      await killMentioning(dir)
      for (const d of federation?.plantDirs ?? []) await rm(defaultGoldenShmDir(join(d, 'line')), { recursive: true, force: true })
    }
  })
  const federation = await run.start({
    plants: 2,
    shop: { bidWindowMs: 20_000, orderTimeoutMs: 180_000 },
    plant: { memoryMB: 4096, networks: 'model', driver: { kind: 'qemu', poolSize: 0 } },
    startTimeoutMs: 120_000
  })
  const peers = federation.plants.map((p) => p.ready.peer)
  const clients = await run.connect(2)
  // each plant builds its golden image on its first create, before the burst
  await warmPlants(clients, spec, peers, 180_000)
  t.deepEqual((await listAll(clients)).vms, [])

  const outcomes = await fireCreates(clients, CREATES, spec, 'load')
  const counts = countOutcomes(outcomes)
  t.log(`${counts.vms} VMs, ${counts.busy} busy, other ${JSON.stringify(counts.other)}; p50 ${[...outcomes.map((o) => o.ms)].sort((a, b) => a - b)[CREATES / 2]?.toFixed(0)} ms`)
  t.deepEqual(counts, { vms: CREATES, busy: 0, other: {} })
  const made = outcomes.flatMap((o) => o.ok ? [{ result: o.result, client: o.client }] : [])
  const results = made.map((m) => m.result)
  t.true(results.every((r) => r.classad.line === 'qemu' && r.classad.outputs.hello?.stdout === 'hello\n'))
  const listed = await listAll(clients)
  t.deepEqual(listed.unreachable, [])
  t.deepEqual(ledgerProblems(results, listed.vms.map((vm) => ({ vmid: vm.vmid, plant: vm.plant, state: vm.state }))), [])
  // QEMU processes name their plant's line folder (the nodes' own name only their config files)
  const qemus = (): number[] => (federation?.plantDirs ?? []).flatMap((d) => pidsMentioning(join(d, 'line')))
  t.true(qemus().length >= CREATES, 'a QEMU process runs for each VM')

  t.deepEqual(await destroyAll(clients, made, 4), [])
  t.deepEqual(await listAll(clients), { vms: [], unreachable: [] })
  t.deepEqual(qemus(), [], 'no QEMU process is left')
})
