/**
 * The QEMU line with domain networks: a clone's NIC is a tap that the line makes on the bridge the
 * plant names (on-demand clones and warm-pool clones alike), VMs on one bridge reach each other, a
 * VM on another bridge does not, the tap is recorded with the VM and goes with it, and a clone
 * that never completed or was aborted leaves no tap. Bridges are made and removed by this test.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import test from 'ava'
import type { GoldenImage, HostNetworks } from '../../src/hypervisor/index.js'
import { qemuLine, type QemuProductionLine } from '../../src/hypervisor/qemu/index.js'
import { vmPaths } from '../../src/hypervisor/qemu/vm-store.js'
import { hostNetworks, masterOf } from '../../src/hypervisor/net/index.js'
import { killAll, pidsMentioning } from '../helpers/hypervisors.js'
import { linkExists, linksStartingWith, sweepStaleLinks, testLinkPrefix } from '../helpers/links.js'
import { lineTest, tempDirs } from './qemu-helpers.js'

const isRoot = process.getuid?.() === 0
// without root there are no bridges to test; under CI that is a failure, not a skip
const qtest = isRoot || process.env.CI !== undefined ? lineTest('qemu') : test.serial.skip
const dirs = tempDirs('vmplant-qnet')
const prefix = testLinkPrefix()
const lines: QemuProductionLine[] = []
let networks: HostNetworks
let line: QemuProductionLine
let golden: GoldenImage

function newLine (): QemuProductionLine {
  const made = qemuLine({ workDir: dirs.work, goldenDir: dirs.golden, poolSize: 1, poolSpawns: 1 })
  lines.push(made)
  return made
}

test.after.always(async () => {
  for (const made of lines) await made.stop({ destroyAll: true }).catch(() => {})
  killAll(pidsMentioning(dirs.work))
  for (const index of await networks?.list().catch(() => []) ?? []) await networks.remove(index).catch(() => {})
  for (const name of await linksStartingWith(prefix).catch(() => [])) execFileSync('ip', ['link', 'del', 'dev', name])
  dirs.remove()
})

function vmid (name: string): string {
  return `vm-${randomBytes(8).toString('hex')}.${name}`
}

qtest('clones of one domain on its bridge ping each other, a clone on another bridge cannot; pooled clones join the bridge too; the tap goes with the VM', async (t) => {
  await sweepStaleLinks()
  networks = hostNetworks({ prefix })
  t.like(await networks.probe(), { available: true })
  line = newLine()
  await line.start()
  t.true(line.capabilities().bridgeNic)
  golden = await line.prepareGolden({ hardware: { memoryMB: 128, os: 'linux', arch: 'x86_64' }, actions: [] })
  await line.warm([golden])
  const pooledPid = pidsMentioning(dirs.work)
  t.is(pooledPid.length, 1, 'one process waits in the pool')
  const bridgeA = await networks.ensure(0)
  const bridgeB = await networks.ensure(1)
  const vms = [
    { vmid: vmid('a1'), bridge: bridgeA, address: '10.98.0.1' },
    { vmid: vmid('a2'), bridge: bridgeA, address: '10.98.0.2' },
    // the same subnet on purpose: only the bridges keep B apart from A
    { vmid: vmid('b1'), bridge: bridgeB, address: '10.98.0.3' }
  ]
  for (const [i, vm] of vms.entries()) {
    const tap = networks.tapName(vm.vmid)
    const info = await line.clone(golden, vm.vmid, { network: { bridge: vm.bridge, tap } })
    if (i === 0) t.is(info.pid, pooledPid[0], 'the first clone is the pooled process')
    t.is(await masterOf(tap), vm.bridge, `${vm.vmid}'s tap is on its domain's bridge`)
    const identity = JSON.parse(readFileSync(vmPaths(dirs.work, String(info.handle.token)).identity, 'utf8'))
    t.deepEqual(identity.nic, { bridge: vm.bridge, tap }, 'vm.json records the tap')
    await line.resume(vm.vmid)
    const up = await line.runAction(vm.vmid, { id: 'net', run: `ip addr add ${vm.address}/24 dev eth0 && ip link set eth0 up && cat /sys/class/net/eth0/address` })
    t.is(up.exitCode, 0, up.stderr)
    t.is(up.stdout.trim(), (await line.inspect(vm.vmid)).mac ?? 'no MAC', 'the guest has the clone\'s own MAC')
  }
  const [a1, a2, b1] = vms as [typeof vms[number], typeof vms[number], typeof vms[number]]
  const ping = async (on: QemuProductionLine, from: string, to: string) => await on.runAction(from, { id: 'ping', run: `ping -c 2 -W 3 ${to}`, timeoutMs: 30_000 })
  const aa = await ping(line, a1.vmid, a2.address)
  t.is(aa.exitCode, 0, `A1 (pooled) reaches A2: ${aa.stdout}${aa.stderr}`)
  t.not((await ping(line, b1.vmid, a1.address)).exitCode, 0, 'B1 cannot reach A1')
  t.not((await ping(line, a1.vmid, b1.address)).exitCode, 0, 'A1 cannot reach B1')

  // a restarted line re-attaches a bridged clone, whose tap still carries its frames
  const handle = (await line.inspect(a2.vmid)).handle
  await line.stop()
  line = newLine()
  await line.start()
  t.is((await line.recover(a2.vmid, handle)).state, 'running')
  t.is((await ping(line, a2.vmid, a1.address)).exitCode, 0, 'A2 reaches A1 after the line restarted')

  for (const vm of vms) {
    await line.destroy(vm.vmid)
    t.false(await linkExists(networks.tapName(vm.vmid)), 'destroy removes the tap')
  }
  await line.stop({ destroyAll: true })
  await networks.remove(0)
  await networks.remove(1)
  t.deepEqual(await linksStartingWith(prefix), [], 'no bridge or tap is left')
  t.deepEqual(pidsMentioning(dirs.work), [])
})

qtest('a clone aborted half-way, one that failed, and one that never completed leave no tap', async (t) => {
  line = newLine()
  await line.start()
  const bridge = await networks.ensure(2)
  // aborted while its tap exists and its QEMU starts
  const aborted = vmid('abort')
  const controller = new AbortController()
  const cloning = line.clone(golden, aborted, { network: { bridge, tap: networks.tapName(aborted) }, signal: controller.signal })
  const tapMade = async (): Promise<void> => { while (!await linkExists(networks.tapName(aborted))) await new Promise((resolve) => setImmediate(resolve)) }
  await Promise.race([tapMade(), cloning.catch(() => {})])
  controller.abort()
  t.is(await cloning.then(() => 'cloned', () => 'aborted'), 'aborted')
  t.false(await linkExists(networks.tapName(aborted)), 'an aborted clone leaves no tap')
  // a bridge that does not exist: the tap cannot be enslaved
  const failed = vmid('fail')
  await t.throwsAsync(line.clone(golden, failed, { network: { bridge: `${prefix}b99`, tap: networks.tapName(failed) } }))
  t.false(await linkExists(networks.tapName(failed)))
  await t.throwsAsync(line.clone(golden, vmid('both'), { network: { bridge }, nic: { type: 'user' } }), { message: /not both/ })
  // what a plant killed between the tap and the identity leaves: the folder with nic.json, no vm.json
  const half = vmid('half')
  const info = await line.clone(golden, half, { network: { bridge } })
  const tap = `vmq${String(info.handle.token)}`
  t.is(await masterOf(tap), bridge, 'without a name from the plant the line names the tap')
  rmSync(vmPaths(dirs.work, String(info.handle.token)).identity)
  await line.stop()
  line = newLine()
  await line.start()
  t.false(await linkExists(tap), 'the starting line removed the tap with the half-made clone')
  t.deepEqual(await line.list(), [])
  await line.stop({ destroyAll: true })
  await networks.remove(2)
  t.deepEqual(await linksStartingWith(prefix), [])
  t.deepEqual(pidsMentioning(dirs.work), [])
})
