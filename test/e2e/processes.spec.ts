import test from 'ava'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startLocalShop, startNodeProcess, eventually, type NodeProcess } from '../helpers/processes.js'
import { processFixture } from '../helpers/process-fixture.js'

const spec = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }

test('three node processes: 13 VMs of one domain land on one plant, the 14th on the other, and a restarted shop still answers for them', async (t) => {
  const { dir, procs, startClient } = await processFixture(t)

  const local = await startLocalShop(dir.path, 5000)
  let shop = local.shop
  procs.push(shop)
  const { shopAddr, shopConfig } = local

  const plants: NodeProcess[] = []
  for (const name of ['a', 'b']) {
    const file = join(dir.path, `plant-${name}.yaml`)
    await writeFile(file, `roles: [plant]\nlisten: [/ip4/127.0.0.1/tcp/0]\nbootstrap: [${shopAddr}]\ndataDir: plant-${name}\nredialMs: 200\nplant:\n  memoryMB: 8192\n  cost: { model: paper }\n  driver: { kind: sim }\n`)
    const plant = await startNodeProcess(file)
    procs.push(plant)
    plants.push(plant)
  }

  const c = await startClient({ shop: shopAddr, privateKey: await generateKeyPair('Ed25519') })
  // the shop learns of the plants through gossipsub subscriptions; the first create waits for them
  const first = await eventually(async () => {
    const result = await c.create(spec, 'grid')
    if (result.bidding.offers.length < 2) {
      await c.destroy(result.classad.vmid)
      throw new Error('not every plant has bid yet')
    }
    return result
  }, 20_000)
  const placed = [first.classad]
  for (let i = 1; i < 14; i++) placed.push((await c.create(spec, 'grid')).classad)

  const firstPlant = placed[0]!.plant
  t.true(placed.slice(0, 13).every((ad) => ad.plant === firstPlant), 'the first 13 VMs share a plant')
  t.not(placed[13]!.plant, firstPlant, 'the 14th goes to the other plant')
  t.deepEqual(placed.map((ad) => ad.cost), [50, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 50])
  t.is(placed[13]!.network.name, 'hostonly-0')

  const queried = await c.query(placed[3]!.vmid)
  t.is(queried.state, 'running')
  t.is(queried.outputs.hello?.stdout, 'hello\n')
  await c.destroy(placed[4]!.vmid)
  const gone = await t.throwsAsync(c.query(placed[4]!.vmid))
  t.regex(gone.message, /not found/)

  // the shop keeps no VM state: kill it, start it again on the same port, and ask about old VMs
  await shop.kill('SIGKILL')
  shop = await startNodeProcess(shopConfig)
  procs.push(shop)
  const afterRestart = await eventually(async () => c.query(placed[13]!.vmid), 20_000)
  t.is(afterRestart.vmid, placed[13]!.vmid)
  t.is(afterRestart.plant, placed[13]!.plant)
  const again = await eventually(async () => c.query(placed[0]!.vmid), 20_000)
  t.is(again.plant, firstPlant)
  await c.destroy(placed[0]!.vmid)
  await c.destroy(placed[13]!.vmid)
  const listed = await eventually(async () => {
    const list = await c.list()
    if (list.vms.length !== 11) throw new Error(`list shows ${list.vms.length} VMs`)
    return list
  }, 20_000)
  t.is(listed.vms.length, 11)
  t.deepEqual(listed.unreachable, [])
})
