import '../../src/polyfill.js'
import { createHash } from 'node:crypto'
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { VmNotFoundError, type GoldenImage } from '../../src/hypervisor/index.js'
import { createQemuLineInit, InvalidQemuLineInitError, QmpClient, QmpClosedError, QmpCommandError, qemuLine, type QemuProductionLine } from '../../src/hypervisor/qemu/index.js'
import { spawnDetached, waitExit } from '../../src/hypervisor/qemu/process.js'
import { killAll, pidsMentioning, processGone, qemuTest, tempDirs } from './qemu-helpers.js'

const qtest = qemuTest()
const dirs = tempDirs('vmplant-qemu')
const started = new Set<number>()
const lines: QemuProductionLine[] = []
let line: QemuProductionLine
let golden: GoldenImage

function newLine (extra: Parameters<typeof qemuLine>[0] = {}): QemuProductionLine {
  const made = qemuLine({ workDir: dirs.work, goldenDir: dirs.golden, ...extra })
  lines.push(made)
  return made
}

/** the NIC is hot-plugged at resume; the guest takes a moment to see it */
const waitNic = 'i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do usleep 50000; i=$((i+1)); done; [ -e /sys/class/net/eth0 ]'

function hashFile (path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

async function cloneRunning (vmid: string, on = line): Promise<number> {
  const info = await on.clone(golden, vmid)
  if (info.pid !== undefined) started.add(info.pid)
  await on.resume(vmid)
  return info.pid as number
}

test.after.always(async () => {
  for (const made of lines) await made.stop({ destroyAll: true }).catch(() => {})
  killAll(started)
  killAll(pidsMentioning(dirs.work))
  dirs.remove()
})

test('init validation names the offending field', (t) => {
  const bad = t.throws(() => createQemuLineInit({ tbSizeMB: 0 }), { instanceOf: InvalidQemuLineInitError })
  t.is(bad?.path, 'tbSizeMB')
  t.is(t.throws(() => createQemuLineInit({ workDir: 'relative' }), { instanceOf: InvalidQemuLineInitError })?.path, 'workDir')
  t.is(t.throws(() => createQemuLineInit({ workDir: '/' + 'x'.repeat(100) }), { instanceOf: InvalidQemuLineInitError })?.path, 'workDir')
  t.is(t.throws(() => createQemuLineInit({ accel: 'xen' as never }), { instanceOf: InvalidQemuLineInitError })?.path, 'accel')
})

qtest('the QMP client negotiates, runs commands, delivers events and types its errors', async (t) => {
  const sock = join(dirs.work, 'qmp-test.sock')
  const pid = await spawnDetached('qemu-system-x86_64', ['-nodefaults', '-no-user-config', '-display', 'none', '-machine', 'none', '-S',
    '-qmp', `unix:${sock},server=on,wait=off`, '-name', `qmp-test-${dirs.work}`], join(dirs.work, 'qmp-test.log'))
  started.add(pid)
  const qmp = await QmpClient.connect(sock, { timeoutMs: 10_000 })
  t.is((await qmp.execute<{ status: string }>('query-status')).status, 'prelaunch')
  const error = await t.throwsAsync(qmp.execute('no-such-command'), { instanceOf: QmpCommandError })
  t.is(error?.errorClass, 'CommandNotFound')
  const shutdown = qmp.waitEvent('SHUTDOWN')
  await qmp.execute('quit')
  t.is((await shutdown).event, 'SHUTDOWN')
  await t.throwsAsync(qmp.execute('query-status'), { instanceOf: QmpClosedError })
  t.true(await waitExit(pid, { timeoutMs: 10_000 }))
})

qtest('a golden is prepared from the built guest image and checkpointed on tmpfs', async (t) => {
  line = newLine()
  await line.start()
  golden = await line.prepareGolden({
    hardware: { memoryMB: 128, os: 'linux', arch: 'x86_64' },
    actions: [{ id: 'motd', run: 'echo made-in-golden > /data/motd && echo golden-ram > /tmp/motd' }]
  })
  t.deepEqual(golden.applied, ['motd'])
  t.is(golden.line, 'qemu')
  const ram = join(golden.dir, golden.artifacts.memory as string)
  t.is(statSync(ram).size, 128 * 1024 * 1024)
  // only device state and ROMs are in the checkpoint, never the RAM
  t.true(statSync(join(golden.dir, golden.artifacts.state as string)).size < 2 * 1024 * 1024)
  const again = await line.prepareGolden({
    hardware: { memoryMB: 128, os: 'linux', arch: 'x86_64' },
    actions: [{ id: 'motd', run: 'echo made-in-golden > /data/motd && echo golden-ram > /tmp/motd' }]
  })
  t.is(again.id, golden.id)
})

qtest('a clone runs two actions in the guest and returns their output', async (t) => {
  const cloned = await line.clone(golden, 'two-actions')
  t.is(cloned.state, 'paused')
  if (cloned.pid !== undefined) started.add(cloned.pid)
  t.is((await line.resume('two-actions')).state, 'running')
  const first = await line.runAction('two-actions', { id: 'net', run: 'cat /data/motd /tmp/motd; echo to-stderr >&2; exit 3' })
  t.is(first.stdout, 'made-in-golden\ngolden-ram\n')
  t.is(first.stderr, 'to-stderr\n')
  t.is(first.exitCode, 3)
  t.false(first.timedOut)
  const second = await line.runAction('two-actions', { id: 'user', run: `echo 'alice:x:1000:1000::/home/alice:/bin/sh' >> /etc/passwd && mkdir -p /home/alice && id -u alice && ${waitNic} && cat /sys/class/net/eth0/address` })
  t.is(second.exitCode, 0)
  t.regex(second.stdout, /^1000\n52:54:00:[0-9a-f:]{8}\n$/)
  const info = await line.inspect('two-actions')
  t.is(info.state, 'running')
  t.is(info.pid, cloned.pid)
  t.true((info.rssKB ?? 0) > 0)
})

qtest('an action that outlives its timeout is killed and reported', async (t) => {
  await cloneRunning('timeout')
  const result = await line.runAction('timeout', { id: 'slow', run: 'echo started; sleep 30', timeoutMs: 1000 })
  t.true(result.timedOut)
  t.is(result.stdout, 'started\n')
  t.true(result.durationMs < 10_000)
  const after = await line.runAction('timeout', { id: 'next', run: 'echo still-here' })
  t.is(after.stdout, 'still-here\n')
})

qtest('two clones of one golden diverge on disk and in memory; the golden RAM file stays unchanged', async (t) => {
  const ram = join(golden.dir, golden.artifacts.memory as string)
  const before = hashFile(ram)
  await cloneRunning('left')
  await cloneRunning('right')
  const write = await line.runAction('left', { id: 'w', run: 'echo L > /data/only-left && echo L > /dev/shm/only-left && echo L > /tmp/only-left && sync && echo ok' })
  t.is(write.stdout, 'ok\n')
  const look = 'for f in /data/only-left /dev/shm/only-left /tmp/only-left; do [ -e $f ] && echo "$f present" || echo "$f absent"; done'
  const left = await line.runAction('left', { id: 'look', run: look })
  const right = await line.runAction('right', { id: 'look', run: look })
  t.is(left.stdout, '/data/only-left present\n/dev/shm/only-left present\n/tmp/only-left present\n')
  t.is(right.stdout, '/data/only-left absent\n/dev/shm/only-left absent\n/tmp/only-left absent\n')
  // vmgenid and the NIC: the clones do not look alike
  const id = `${waitNic} && cat /sys/class/net/eth0/address`
  t.not((await line.runAction('left', { id: 'mac', run: id })).stdout, (await line.runAction('right', { id: 'mac', run: id })).stdout)
  t.is(hashFile(ram), before)
})

qtest('destroy leaves no process and no file, and a second destroy is not an error', async (t) => {
  const pid = await cloneRunning('doomed')
  const folders = new Set(readdirSync(join(dirs.work, 'vms')))
  await line.destroy('doomed')
  t.true(processGone(pid))
  t.deepEqual(pidsMentioning(dirs.work).filter((p) => p === pid), [])
  const left = readdirSync(join(dirs.work, 'vms'))
  t.is(left.length, folders.size - 1)
  await t.throwsAsync(line.inspect('doomed'), { instanceOf: VmNotFoundError })
  await t.notThrowsAsync(line.destroy('doomed'))
})

qtest('a clone that fails half-way leaves no process and no file', async (t) => {
  // a golden whose device state is garbage: QEMU starts, then the incoming migration fails
  const broken = join(dirs.golden, 'broken')
  mkdirSync(broken)
  for (const name of readdirSync(golden.dir)) {
    if (name !== golden.artifacts.state) linkSync(join(golden.dir, name), join(broken, name))
  }
  writeFileSync(join(broken, golden.artifacts.state as string), 'not a migration stream')
  const before = readdirSync(join(dirs.work, 'vms')).sort()
  const pidsBefore = pidsMentioning(dirs.work).sort()
  await t.throwsAsync(line.clone({ ...golden, dir: broken }, 'broken'))
  for (const ms of [1, 10, 20]) {
    await t.throwsAsync(line.clone(golden, `aborted-${ms}`, { signal: AbortSignal.timeout(ms) }), { any: true })
  }
  t.deepEqual(readdirSync(join(dirs.work, 'vms')).sort(), before)
  t.deepEqual(pidsMentioning(dirs.work).sort(), pidsBefore)
  await t.throwsAsync(line.inspect('broken'), { instanceOf: VmNotFoundError })
})

qtest('a new line over the same work folder re-attaches to running clones and reports dead ones as crashed', async (t) => {
  const alivePid = await cloneRunning('survivor')
  const deadPid = await cloneRunning('casualty')
  await line.runAction('survivor', { id: 'mark', run: 'echo before-restart > /tmp/mark' })
  // the plant goes away without destroying its VMs; one VM dies while it is gone
  await line.stop()
  t.false(processGone(alivePid))
  process.kill(deadPid, 'SIGKILL')
  const restarted = newLine()
  await restarted.start()
  line = restarted
  const listed = new Map((await restarted.list()).map((vm) => [vm.vmid, vm]))
  t.is(listed.get('survivor')?.state, 'running')
  t.is(listed.get('survivor')?.pid, alivePid)
  t.is(listed.get('casualty')?.state, 'crashed')
  const result = await restarted.runAction('survivor', { id: 'check', run: 'cat /tmp/mark' })
  t.is(result.stdout, 'before-restart\n')
  await restarted.destroy('casualty')
  t.false((await restarted.list()).some((vm) => vm.vmid === 'casualty'))
})

qtest('a warm pool hands out ready processes that run actions like any clone', async (t) => {
  const pooled = newLine({ workDir: join(dirs.work, 'pool'), poolSize: 1 })
  await pooled.start()
  await pooled.warm(golden)
  t.is(pooled.reservedMB?.(), pooled.init.overheadMB, 'the waiting process counts against the plant\'s memory')
  const pid = await cloneRunning('from-pool', pooled)
  const result = await pooled.runAction('from-pool', { id: 'p', run: 'cat /data/motd' })
  t.is(result.stdout, 'made-in-golden\n')
  await pooled.stop({ destroyAll: true })
  t.true(processGone(pid))
  t.deepEqual(pidsMentioning(join(dirs.work, 'pool')), [])
  t.deepEqual(readdirSync(join(dirs.work, 'pool', 'vms')), [])
})

qtest('stop with destroyAll kills every VM the line started and removes their folders', async (t) => {
  const pids = [await cloneRunning('last-1'), await cloneRunning('last-2')]
  await line.stop({ destroyAll: true })
  for (const pid of pids) t.true(processGone(pid))
  t.deepEqual(pidsMentioning(dirs.work), [])
  t.deepEqual(readdirSync(join(dirs.work, 'vms')), [])
  t.false(existsSync(join(dirs.work, 'line.lock')))
})
