/**
 * The UML line with domain networks: a clone's eth0 is a tap on its domain's bridge (made by the
 * host-network module), VMs of one domain reach each other, a VM of another domain does not, and
 * the host keeps no address on those links. Everything runs on bridges this test makes.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import type { GoldenImage, HostNetworks } from '../../src/hypervisor/index.js'
import { umlLine, type UmlProductionLine } from '../../src/hypervisor/uml/index.js'
import { hostNetworks, masterOf } from '../../src/hypervisor/net/index.js'
import { vmPaths, vmToken } from '../../src/hypervisor/uml/vm-store.js'
import { rm } from 'node:fs/promises'
import { killAll, pidsMentioning } from '../helpers/hypervisors.js'
import { lineTest } from './qemu-helpers.js'
import { linkExists, sweepStaleLinks, testLinkPrefix } from '../helpers/links.js'

const isRoot = process.getuid?.() === 0
const utest = isRoot ? lineTest('uml') : test.serial.skip
const work = mkdtempSync(join(tmpdir(), 'vmplant-umln-'))
const goldenDir = mkdtempSync(join(tmpdir(), 'vmplant-umlng-'))
let line: UmlProductionLine
let networks: HostNetworks
const prefix = testLinkPrefix()

test.after.always(async () => {
  await line?.stop({ destroyAll: true }).catch(() => {})
  killAll(pidsMentioning(work))
  for (const index of await networks?.list().catch(() => []) ?? []) await networks.remove(index).catch(() => {})
  rmSync(work, { recursive: true, force: true })
  rmSync(goldenDir, { recursive: true, force: true })
})

function addressesOf (ifname: string): string {
  return execFileSync('ip', ['-o', 'addr', 'show', 'dev', ifname], { encoding: 'utf8' }).trim()
}

utest('a VM of domain A is on A\'s bridge, one of B on B\'s: A\'s VMs ping each other, B\'s cannot reach them, the host has no address there', async (t) => {
  await sweepStaleLinks()
  networks = hostNetworks({ prefix })
  t.like(await networks.probe(), { available: true })
  line = umlLine({ workDir: work, goldenDir })
  await line.start()
  const golden: GoldenImage = await line.prepareGolden({ hardware: { memoryMB: 48, os: 'linux', arch: 'x86_64' }, actions: [] })
  const bridgeA = await networks.ensure(0)
  const bridgeB = await networks.ensure(1)
  t.deepEqual(await networks.list(), [0, 1])
  t.is(addressesOf(bridgeA), '', 'the host has no address on A\'s bridge')

  const vms = [
    { vmid: `vm-${randomBytes(8).toString('hex')}.a1`, bridge: bridgeA, address: '10.99.0.1' },
    { vmid: `vm-${randomBytes(8).toString('hex')}.a2`, bridge: bridgeA, address: '10.99.0.2' },
    // the same subnet on purpose: only the bridges keep B apart from A
    { vmid: `vm-${randomBytes(8).toString('hex')}.b1`, bridge: bridgeB, address: '10.99.0.3' }
  ]
  for (const vm of vms) {
    const tap = networks.tapName(vm.vmid)
    await line.clone(golden, vm.vmid, { network: { bridge: vm.bridge, tap } })
    t.is(await masterOf(tap), vm.bridge, `${vm.vmid}'s tap is on its domain's bridge`)
    t.is(addressesOf(tap), '', 'the host has no address on the tap')
    await line.resume(vm.vmid)
    const up = await line.runAction(vm.vmid, { id: 'net', run: `ip addr add ${vm.address}/24 dev eth0 && ip link set eth0 up && ip -o addr show dev eth0` })
    t.is(up.exitCode, 0, up.stderr)
    t.regex(up.stdout, new RegExp(vm.address.replaceAll('.', '\\.')))
  }
  const [a1, a2, b1] = vms as [typeof vms[0], typeof vms[0], typeof vms[0]]
  const ping = async (from: string, to: string) => await line.runAction(from, { id: 'ping', run: `ping -c 2 -W 2 ${to}`, timeoutMs: 20_000 })
  const aa = await ping(a1.vmid, a2.address)
  t.is(aa.exitCode, 0, `A1 reaches A2: ${aa.stdout}${aa.stderr}`)
  t.is((await ping(a2.vmid, a1.address)).exitCode, 0, 'A2 reaches A1')
  t.not((await ping(b1.vmid, a1.address)).exitCode, 0, 'B1 cannot reach A1')
  t.not((await ping(a1.vmid, b1.address)).exitCode, 0, 'A1 cannot reach B1')

  for (const vm of vms) await line.destroy(vm.vmid)
  for (const vm of vms) t.false(await linkExists(networks.tapName(vm.vmid)), 'destroy removes the tap')
  await networks.remove(0)
  await networks.remove(1)
  await networks.remove(1)
  t.deepEqual(await networks.list(), [])
})

utest('a clone that never completed (a plant killed before its identity was written) loses its tap when the next line starts', async (t) => {
  networks ??= hostNetworks({ prefix })
  const bridge = await networks.ensure(3)
  const golden = await line.prepareGolden({ hardware: { memoryMB: 48, os: 'linux', arch: 'x86_64' }, actions: [] })
  const vmid = `vm-${randomBytes(8).toString('hex')}.half`
  const tap = networks.tapName(vmid)
  await line.clone(golden, vmid, { network: { bridge, tap } })
  t.is(await masterOf(tap), bridge)
  // what a plant killed between the tap and the identity leaves: the folder with nic.json, no vm.json
  await rm(vmPaths(work, vmToken(work, vmid)).identity)
  await line.stop()
  line = umlLine({ workDir: work, goldenDir })
  await line.start()
  t.false(await linkExists(tap), 'the starting line removed the tap with the half-made clone')
  t.deepEqual(await line.list(), [])
  await networks.remove(3)
})
