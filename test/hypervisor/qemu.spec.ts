/**
 * The QEMU line's own cases: QMP, the golden checkpoint on tmpfs, NICs, a broken golden, a VM
 * that died while the plant was away, the fingerprint and the warm pool. What every line must do
 * is in the conformance suite (qemu-conformance.spec.ts).
 */
import { createHash } from 'node:crypto'
import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { ProductionError, VmNotFoundError, type GoldenImage } from '../../src/hypervisor/index.js'
import { createQemuLineInit, InvalidQemuLineInitError, QmpClient, QmpClosedError, QmpCommandError, qemuLine, type QemuProductionLine } from '../../src/hypervisor/qemu/index.js'
import { spawnDetached, waitExit } from '../../src/hypervisor/qemu/process.js'
import { killAll, pidsMentioning, processGone, until } from '../helpers/hypervisors.js'
import { qemuTest, tempDirs } from './qemu-helpers.js'

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
  t.is(t.throws(() => createQemuLineInit({ poolSpawns: 0 }), { instanceOf: InvalidQemuLineInitError })?.path, 'poolSpawns')
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

qtest('a resumed clone has the golden\'s NIC with its own MAC, as inspect reports it; the golden RAM file never changes, and inspect reports pid and memory', async (t) => {
  const ram = join(golden.dir, golden.artifacts.memory as string)
  const before = hashFile(ram)
  const leftPid = await cloneRunning('left')
  await cloneRunning('right')
  await line.runAction('left', { id: 'w', run: 'echo L > /dev/shm/only-left && sync' })
  // vmgenid and the NIC: the clones do not look alike
  const mac = 'cat /sys/class/net/eth0/address'
  const left = await line.runAction('left', { id: 'mac', run: mac })
  const right = await line.runAction('right', { id: 'mac', run: mac })
  t.regex(left.stdout, /^52:54:00:[0-9a-f:]{8}\n$/)
  const info = await line.inspect('left')
  t.is(left.stdout.split('\n')[0], info.mac)
  t.is(right.stdout.split('\n')[0], (await line.inspect('right')).mac)
  t.not(info.mac, (await line.inspect('right')).mac)
  // the NIC is the golden's device, probed with the golden's MAC, which the guest then changed (NET_ADDR_SET)
  t.is((await line.runAction('left', { id: 'assign', run: 'cat /sys/class/net/eth0/addr_assign_type' })).stdout, '3\n')
  t.is(hashFile(ram), before)
  await t.throwsAsync(line.clone(golden, 'bad-nic', { nic: { type: 'tap', ifname: 'a,b' } }), { instanceOf: ProductionError, message: /ifname/ })
  await t.throwsAsync(line.clone(golden, 'bad-tap', { network: { bridge: 'br0', tap: 'a,b' } }), { instanceOf: ProductionError, message: /ifname/ })
  t.is(info.pid, leftPid)
  t.true((info.rssKB ?? 0) > 0)
  t.deepEqual(info.handle, { line: 'qemu', token: info.handle.token, pid: leftPid })
})

qtest('a clone whose golden device state is garbage fails and leaves no process and no file', async (t) => {
  // QEMU starts, then the incoming migration fails
  const broken = join(dirs.golden, 'broken')
  mkdirSync(broken)
  for (const name of readdirSync(golden.dir)) {
    if (name !== golden.artifacts.state) linkSync(join(golden.dir, name), join(broken, name))
  }
  writeFileSync(join(broken, golden.artifacts.state as string), 'not a migration stream')
  const before = readdirSync(join(dirs.work, 'vms')).sort()
  const pidsBefore = pidsMentioning(dirs.work).sort()
  await t.throwsAsync(line.clone({ ...golden, dir: broken }, 'broken'))
  t.deepEqual(readdirSync(join(dirs.work, 'vms')).sort(), before)
  t.deepEqual(pidsMentioning(dirs.work).sort(), pidsBefore)
  await t.throwsAsync(line.inspect('broken'), { instanceOf: VmNotFoundError })
})

qtest('a golden of an older machine model (other devices) is refused by name, before any process starts', async (t) => {
  const old = join(dirs.golden, 'old-model')
  mkdirSync(old)
  for (const name of readdirSync(golden.dir)) {
    if (name !== 'golden.json') linkSync(join(golden.dir, name), join(old, name))
  }
  const meta = JSON.parse(readFileSync(join(golden.dir, 'golden.json'), 'utf8')) as { version: number }
  writeFileSync(join(old, 'golden.json'), JSON.stringify({ ...meta, version: 1 }))
  const pidsBefore = pidsMentioning(dirs.work).sort()
  await t.throwsAsync(line.clone({ ...golden, dir: old }, 'old-model'), { instanceOf: ProductionError, message: /machine model 1/ })
  t.deepEqual(pidsMentioning(dirs.work).sort(), pidsBefore)
  await t.throwsAsync(line.inspect('old-model'), { instanceOf: VmNotFoundError })
})

qtest('a VM whose QEMU died while the line was away is not recovered, lists as crashed, and destroy removes its folder', async (t) => {
  const alivePid = await cloneRunning('survivor')
  const deadPid = await cloneRunning('casualty')
  const handle = (await line.inspect('casualty')).handle
  await line.stop()
  t.false(processGone(alivePid))
  process.kill(deadPid, 'SIGKILL')
  t.true(await until(() => processGone(deadPid), 10_000))
  const restarted = newLine()
  await restarted.start()
  line = restarted
  await t.throwsAsync(restarted.recover('casualty', handle), { instanceOf: VmNotFoundError })
  t.is((await restarted.recover('survivor', (await restarted.inspect('survivor')).handle)).state, 'running')
  const listed = new Map((await restarted.list()).map((vm) => [vm.vmid, vm]))
  t.is(listed.get('survivor')?.state, 'running')
  t.is(listed.get('survivor')?.pid, alivePid)
  t.is(listed.get('casualty')?.state, 'crashed')
  await t.throwsAsync(restarted.runAction('casualty', { id: 'x', run: 'true' }), { instanceOf: ProductionError })
  await restarted.destroy('casualty')
  t.false((await restarted.list()).some((vm) => vm.vmid === 'casualty'))
  await t.throwsAsync(restarted.recover('casualty', handle), { instanceOf: VmNotFoundError })
})

qtest('the fingerprint names the QEMU version and the acceleration the golden build chose', async (t) => {
  const print = await line.fingerprint()
  t.true(print.healthy, print.detail)
  t.regex(print.version, /^QEMU emulator version \d+\.\d+/)
  t.true(['tcg', 'kvm'].includes(print.acceleration), print.acceleration)
  const broken = qemuLine({ workDir: join(dirs.work, 'fp'), goldenDir: dirs.golden, qemuBinary: 'no-such-qemu' })
  const missing = await broken.fingerprint()
  t.false(missing.healthy)
  t.regex(missing.detail, /no-such-qemu is not installed \(Debian package qemu-system-x86/)
  const onDisk = await qemuLine({ workDir: join(dirs.work, 'fp'), goldenDir: dirs.work }).fingerprint()
  t.false(onDisk.healthy)
  t.regex(onDisk.detail, /tmpfs/)
})

qtest('warm fills the pool at start, before any clone; pooled processes run actions like any clone and count as reserved memory', async (t) => {
  const poolDir = join(dirs.work, 'pool')
  const pooled = newLine({ workDir: poolDir, poolSize: 1 })
  await pooled.start()
  t.is(pooled.reservedMB(), 0)
  await pooled.warm([golden, { ...golden, id: 'not-qemu', line: 'uml' }])
  t.true(pooled.reservedMB() > 8, `the waiting process counts against the plant's memory at its measured size (${pooled.reservedMB()} MB)`)
  t.is(pidsMentioning(poolDir).length, 1)
  const pid = await cloneRunning('from-pool', pooled)
  const result = await pooled.runAction('from-pool', { id: 'p', run: 'cat /data/motd' })
  t.is(result.stdout, 'made-in-golden\n')
  // a pooled clone gets its own MAC at resume too
  t.is((await pooled.runAction('from-pool', { id: 'mac', run: 'cat /sys/class/net/eth0/address' })).stdout, `${(await pooled.inspect('from-pool')).mac ?? 'no MAC'}\n`)
  await pooled.stop({ destroyAll: true })
  t.true(processGone(pid))
  t.deepEqual(pidsMentioning(poolDir), [])
  t.deepEqual(readdirSync(join(poolDir, 'vms')), [])
})
