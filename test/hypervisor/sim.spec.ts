/**
 * The sim line's own cases: virtual time, VMs in memory when it has no folder, the script
 * interpreter. What every line must do is in the conformance suite (sim-conformance.spec.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { simLine } from '../../src/hypervisor/sim/index.js'
import { interpretScript } from '../../src/hypervisor/sim/script.js'
import { VmNotFoundError } from '../../src/hypervisor/index.js'
import { VirtualClock } from '../../sim/virtual-clock.js'
import { withoutHostTimers } from '../helpers/host-timers.js'

const hardware = { memoryMB: 64, os: 'linux', arch: 'x86_64' }

// serial: the other cases run on the host's clock, and ava runs a file's concurrent cases together
test.serial('under a virtual clock every latency and sleep is virtual time, and no host timer is set', async (t) => {
  const clock = new VirtualClock(1_000)
  const line = simLine({ clock, cloneMs: 300, resumeMs: 20, actionMs: 5, goldenMs: 10_000 })
  const { timers } = await withoutHostTimers(async () => {
    const golden = await clock.run(line.prepareGolden({ hardware, actions: [{ id: 'a', run: 'echo g > /etc/g' }] }))
    t.is(clock.now(), 11_000)
    await clock.run(line.clone(golden, 'v'))
    await clock.run(line.resume('v'))
    t.is(clock.now(), 11_320)
    const slow = await clock.run(line.runAction('v', { id: 's', run: 'cat /etc/g; sleep 3600', timeoutMs: 120_000 }))
    t.deepEqual([slow.timedOut, slow.exitCode, slow.stdout, slow.durationMs], [true, 137, 'g\n', 120_005])
    const aborted = clock.run(line.clone(golden, 'w', { signal: clock.timeout(100) }))
    await t.throwsAsync(aborted, { any: true, name: 'TimeoutError' })
    t.deepEqual((await line.list()).map((vm) => vm.vmid), ['v'])
  })
  t.is(timers.filter((timer) => !timer.startsWith('AbortSignal')).length, 0)
})

test('without a folder the VMs live in the line object: a new line finds none and states no live re-attach', async (t) => {
  const line = simLine()
  t.false(line.capabilities().liveReattach)
  const golden = await line.prepareGolden({ hardware, actions: [] })
  const { handle } = await line.clone(golden, 'v')
  await line.stop()
  const again = simLine()
  t.deepEqual(await again.list(), [])
  await t.throwsAsync(again.recover('v', handle), { instanceOf: VmNotFoundError })
  t.is((await line.inspect('v')).state, 'paused', 'the first object still holds it')
  await line.stop({ destroyAll: true })
  t.deepEqual(await line.list(), [])
})

test('with a folder, actions run at once on one VM keep each other\'s writes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vmplant-sim-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const line = simLine({ dir, actionMs: 5 })
  const golden = await line.prepareGolden({ hardware, actions: [] })
  await line.clone(golden, 'v')
  await line.resume('v')
  await Promise.all(['a', 'b', 'c', 'd'].map(async (name) => await line.runAction('v', { id: name, run: `echo ${name} >> /log` })))
  const log = await line.runAction('v', { id: 'read', run: 'cat /log' })
  t.deepEqual(log.stdout.split('\n').filter((l) => l !== '').sort(), ['a', 'b', 'c', 'd'])
  await line.stop({ destroyAll: true })
})

test('the script interpreter: echo to either stream or a file, cat, sleep, ";" and the last command\'s status', (t) => {
  const files: Record<string, string> = {}
  t.deepEqual(interpretScript('echo out; echo err >&2\necho "a; b" > /f\necho c >> /f', { files }), { exitCode: 0, stdout: 'out\n', stderr: 'err\n', elapsedMs: 0, timedOut: false })
  t.is(files['/f'], 'a; b\nc\n')
  t.deepEqual(interpretScript('cat /f /missing', { files }), { exitCode: 1, stdout: 'a; b\nc\n', stderr: 'cat: can\'t open \'/missing\': No such file or directory\n', elapsedMs: 0, timedOut: false })
  t.is(interpretScript('false; true').exitCode, 0)
  t.is(interpretScript('true; false').exitCode, 1)
  t.is(interpretScript('false\nexit').exitCode, 1)
  t.is(interpretScript('echo x\nexit 4\necho never').stdout, 'x\n')
  t.deepEqual(interpretScript('sleep 1.5; echo done; sleep 2', { budgetMs: 3000 }), { exitCode: 137, stdout: 'done\n', stderr: '', elapsedMs: 3000, timedOut: true })
  t.is(interpretScript('apt-get install vnc; echo ip=10.0.0.1').stdout, 'ip=10.0.0.1\n')
})
