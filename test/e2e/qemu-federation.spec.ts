import type { ExecutionContext } from 'ava'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient, type ClientEvent } from '../../src/cli/client.js'
import { startEmbeddedFederation } from '../../src/daemon/embedded.js'
import { defaultGoldenShmDir } from '../../src/daemon/create-line.js'
import { qemuTest, pidsMentioning } from '../hypervisor/qemu-helpers.js'
import { killMentioning } from '../helpers/hypervisors.js'
import { startNodeProcess, freePort, eventually, type NodeProcess } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'
import { rm } from 'node:fs/promises'

const qtest = qemuTest()

const spec = {
  hardware: { memoryMB: 128, os: 'linux' },
  actions: [
    { id: 'network', run: 'echo ip_address=10.20.0.5; cat /proc/cmdline >/dev/null', exports: ['ip_address'] },
    { id: 'user', run: 'echo "griduser:x:1000:1000::/home/griduser:/bin/sh" >> /etc/passwd && grep -c griduser /etc/passwd', after: ['network'] }
  ]
}

/** One shop and one QEMU plant in this process, with a client; all of it, VMs included, removed when the test ends. */
async function qemuFederation (t: ExecutionContext, prefix: string, shop: { orderTimeoutMs?: number }, onEvent?: (event: ClientEvent) => void) {
  const dir = await tempDir(prefix)
  const federation = await startEmbeddedFederation({ plants: 1, dataDir: dir.path, shop, plant: { driver: { kind: 'qemu', poolSize: 0, accel: 'auto', tbSizeMB: 64, diskMB: 64, overheadMB: 64 } } })
  const client = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519'), ...(onEvent !== undefined ? { onEvent } : {}) })
  t.teardown(async () => {
    await client.stop()
    await federation.stop()
    await killMentioning(dir.path)
    await rm(defaultGoldenShmDir(join(dir.path, 'plant-0', 'line')), { recursive: true, force: true })
    await dir.remove()
  })
  await federation.ready()
  await client.start()
  return { dir, client, federation }
}

qtest('through the federation, a QEMU VM runs two actions in its guest, shows as running, and destroy leaves nothing behind; the client sees the fresh plant boot and checkpoint its golden image', async (t) => {
  const steps: string[] = []
  const { dir, client } = await qemuFederation(t, 'vmplant-qf-', {}, (event) => { if (event.type === 'progress') steps.push(`${event.event.step} ${event.event.phase}`) })
  const { classad } = await client.create(spec, 'lab')
  // the plant's line steps come to the client through the shop, inside the order and the golden step
  const lineSteps = steps.filter((s) => /^(boot|checkpoint) /.test(s))
  t.deepEqual(lineSteps, ['boot start', 'boot done', 'checkpoint start', 'checkpoint done'], steps.join(', '))
  t.true(steps.indexOf('golden start') < steps.indexOf('boot start') && steps.indexOf('checkpoint done') < steps.indexOf('golden done'), steps.join(', '))
  t.is(steps.at(-1), 'order done')
  t.is(classad.line, 'qemu')
  t.is(classad.attributes.ip_address, '10.20.0.5')
  t.is(classad.outputs.user?.stdout.trim(), '1')
  const queried = await client.query(classad.vmid)
  t.is(queried.state, 'running')
  t.true(pidsMentioning(dir.path).length > 0, 'a QEMU process runs for the VM')

  await client.destroy(classad.vmid)
  t.deepEqual(pidsMentioning(dir.path), [], 'no QEMU process is left')
  const lineDir = join(dir.path, 'plant-0', 'line')
  t.deepEqual(await readdir(join(lineDir, 'vms')), [], 'no VM folder is left in the line\'s work folder')
})

qtest('two QEMU clones of one golden have MACs of their own, and each classad shows the MAC its guest has', async (t) => {
  const { client } = await qemuFederation(t, 'vmplant-qm-', {})
  const macSpec = { hardware: spec.hardware, actions: [{ id: 'mac', run: 'echo mac=$(cat /sys/class/net/eth0/address)', exports: ['mac'] }] }
  const first = (await client.create(macSpec, 'lab')).classad
  const second = (await client.create(macSpec, 'lab')).classad
  for (const classad of [first, second]) {
    t.regex(classad.attributes.mac ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/)
    t.is(classad.nic?.mac, classad.attributes.mac, 'the classad shows the guest\'s own MAC')
  }
  t.not(first.attributes.mac, second.attributes.mac)
  await client.destroy(first.vmid)
  await client.destroy(second.vmid)
})

qtest('a plant killed with SIGKILL while its VMs run re-attaches to them when it starts again, and list matches reality', async (t) => {
  const dir = await tempDir('vmplant-qk-')
  const procs: NodeProcess[] = []
  let client: VmplantClient | undefined
  t.teardown(async () => {
    await client?.stop()
    await Promise.all(procs.map(async (p) => p.kill()))
    await killMentioning(dir.path)
    await rm(defaultGoldenShmDir(join(dir.path, 'plant', 'line')), { recursive: true, force: true })
    await dir.remove()
  })
  const port = await freePort()
  await writeFile(join(dir.path, 'shop.yaml'), `roles: [shop]\nlisten: [/ip4/127.0.0.1/tcp/${port}]\ndataDir: shop\nshop: { bidWindowMs: 3000 }\n`)
  const shop = await startNodeProcess(join(dir.path, 'shop.yaml'))
  procs.push(shop)
  const shopAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${shop.ready.peer}`
  const plantConfig = join(dir.path, 'plant.yaml')
  await writeFile(plantConfig, `roles: [plant]\nbootstrap: [${shopAddr}]\ndataDir: plant\nredialMs: 200\nplant:\n  driver: { kind: qemu }\n`)
  let plant = await startNodeProcess(plantConfig)
  procs.push(plant)

  client = new VmplantClient({ shop: shopAddr, privateKey: await generateKeyPair('Ed25519') })
  await client.start()
  const c = client
  const first = await eventually(async () => c.create(spec, 'lab'), 120_000, 500)
  const second = await c.create(spec, 'lab')
  const third = await c.create(spec, 'lab')
  await c.destroy(third.classad.vmid)

  await plant.kill('SIGKILL')
  t.true(pidsMentioning(join(dir.path, 'plant')).length >= 2, 'the VMs outlive their plant')
  plant = await startNodeProcess(plantConfig)
  procs.push(plant)

  const listed = await eventually(async () => {
    const list = await c.list()
    if (list.vms.length !== 2) throw new Error(`list shows ${list.vms.length}`)
    return list
  }, 30_000)
  t.deepEqual(listed.vms.map((vm) => vm.vmid).sort(), [first.classad.vmid, second.classad.vmid].sort())
  t.true(listed.vms.every((vm) => vm.state === 'running'))
  // the re-attached VMs are really there: a new create still works and destroys clean up
  for (const vm of listed.vms) t.is((await c.query(vm.vmid)).state, 'running')
  for (const vm of listed.vms) await c.destroy(vm.vmid)
  t.deepEqual((await c.list()).vms, [])
  await plant.kill('SIGTERM')
  t.deepEqual(pidsMentioning(join(dir.path, 'plant')), [], 'no QEMU process is left')
})

qtest('an order that outlives the shop\'s deadline leaves no QEMU process, no VM folder and no record, and the client gets a clear error', async (t) => {
  // the guest action outlasts the agreement; the first create also builds the golden image
  const { dir, client, federation } = await qemuFederation(t, 'vmplant-qd-', { orderTimeoutMs: 25_000 })
  const slow = { hardware: spec.hardware, actions: [{ id: 'forever', run: 'sleep 600', timeoutMs: 900_000 }] }
  const error = await t.throwsAsync(client.create(slow, 'lab'))
  t.regex(error.message, /every plant that bid failed: .*(expired|cancelled)/)
  const plant = federation.plants[0]!
  const lineDir = join(dir.path, 'plant-0', 'line')
  const gone = async (): Promise<void> => {
    if (pidsMentioning(join(lineDir, 'vms')).length > 0) throw new Error('a QEMU process still runs')
    // an order that expired before its clone began never made the folder
    if ((await readdir(join(lineDir, 'vms')).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return []; throw err })).length > 0) throw new Error('a VM folder is still there')
    const status = await plant.plantStatus()
    if (status.vms + status.producing > 0) throw new Error(`the plant still counts ${status.vms} VMs and ${status.producing} productions`)
  }
  await eventually(gone, 20_000)
  t.deepEqual((await client.list()).vms, [], 'no record of the VM')
})
