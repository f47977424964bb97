/**
 * The QEMU line's warm pool under a plant: a starting plant fills it for the golden images its
 * warehouse holds, several processes start at once, and the plant's bids count the waiting
 * processes at their measured size (PSS), not at a guess.
 */
import { readFileSync } from 'node:fs'
import test from 'ava'
import { answeringInbox } from '../helpers/inbox.js'
import { ActorSystem, seededRandom } from '../../src/actors/runtime/index.js'
import { plantBehavior } from '../../src/actors/plant/plant.js'
import { plantMessages } from '../../src/actors/plant/messages.js'
import { costModel, COST_DEFAULTS } from '../../src/pricing/index.js'
import { qemuLine, type QemuProductionLine } from '../../src/hypervisor/qemu/index.js'
import { systemClock, type BidAnswer, type BidCall } from '../../src/interface/index.js'
import { MemoryNetwork } from '../../sim/memory-transport.js'
import { memoryPlantStore } from '../../sim/memory-store.js'
import { killAll, pidsMentioning, until } from '../helpers/hypervisors.js'
import { qemuTest, tempDirs } from './qemu-helpers.js'
import { goldenImages, imageCatalog } from '../../src/images/index.js'

const qtest = qemuTest()
const dirs = tempDirs('vmplant-qpool')
const lines: QemuProductionLine[] = []

test.after.always(async () => {
  for (const made of lines) await made.stop({ destroyAll: true }).catch(() => {})
  killAll(pidsMentioning(dirs.work))
  dirs.remove()
})

function pssMB (pids: number[]): number {
  let kb = 0
  for (const pid of pids) kb += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1])
  return kb / 1024
}

qtest('a starting plant fills the warm pool, two processes starting at once, and its bids count them at their measured size', async (t) => {
  // the golden is built by another line object, so that only the plant's start can fill this line's pool
  const builder = qemuLine({ workDir: `${dirs.work}/build`, goldenDir: dirs.golden })
  lines.push(builder)
  await builder.start()
  const golden = await builder.prepareGolden({ hardware: { memoryMB: 128, os: 'linux', arch: 'x86_64' }, actions: [] })
  await builder.stop()

  // overheadMB 1: a guess of 1 MB per process would be far from what the processes hold
  const line = qemuLine({ workDir: `${dirs.work}/pool`, goldenDir: dirs.golden, poolSize: 2, poolSpawns: 2, overheadMB: 1 })
  lines.push(line)
  await line.start()
  t.is(line.reservedMB(), 0)
  const store = memoryPlantStore()
  await store.start()
  // the plant knows the image by its warehouse record (its id is the descriptor's CID)
  const held = (await imageCatalog(store.warehouse).add(golden, 'built', Date.now())).golden
  const network = new MemoryNetwork({ clock: systemClock })
  const answers: BidAnswer[] = []
  let answered: (() => void) | undefined
  network.join('shop', { shop: true, inbox: answeringInbox((command) => { if (command.type === 'bid.answer') { answers.push(command.answer); answered?.() } }) })
  const transport = network.join('plant', { plant: {} })
  const system = new ActorSystem({ clock: systemClock, random: seededRandom(1) })
  t.teardown(async () => { await system.stop(); await store.stop() })
  const plant = await system.spawn('plant', plantBehavior({
    line, store, images: goldenImages({ catalog: imageCatalog(store.warehouse) }), transport, cost: costModel({ ...COST_DEFAULTS, model: 'memory' }), limits: COST_DEFAULTS, memoryCapacityMB: 4096
  }))
  await plant.ask(plantMessages.status())

  // the plant's start asked for the pool: both processes start together, before any clone
  // (while they start, each counts at overheadMB: 2 MB means two in flight together)
  t.true(await until(() => line.reservedMB() === 2, 60_000), 'two pool processes start at once')
  await line.warm([held])
  const pooled = pidsMentioning(line.init.workDir)
  t.is(pooled.length, 2, 'the pool is full')
  const reserved = line.reservedMB()
  const measured = pssMB(pooled)
  t.true(reserved > 2 * 8, `the pool's ${reserved} MB are its processes' measured size, not 2 x overheadMB`)
  t.true(Math.abs(reserved - measured) <= Math.max(4, measured * 0.1), `the line reports ${reserved} MB, the processes hold ${measured.toFixed(1)} MB PSS`)

  const call: BidCall = { type: 'bid.call', requestId: 'r-pool', replyTo: { peer: 'shop', addrs: [] }, hardware: { memoryMB: 128, os: 'linux', arch: 'x86_64' }, domain: 'grid', actionCount: 0, windowMs: 10_000 }
  const got = new Promise<void>((resolve) => { answered = resolve })
  plant.send(plantMessages.bidCall(call, 'shop'))
  await got
  const offer = answers[0]
  t.log(`pool of 2: ${reserved} MB reserved, ${measured.toFixed(1)} MB PSS now; bid: ${JSON.stringify(offer)}`)
  if (offer?.type !== 'bid.offer') return t.fail(`the plant did not offer: ${JSON.stringify(offer)}`)
  const inUse = Number(/^(\d+) of 4096 MB in use after this VM/.exec(offer.reason)?.[1])
  // the pool's memory as the plant read it when it priced the call (remeasured since, it may differ by a little)
  t.true(Math.abs(inUse - (line.memoryCostMB(128) + reserved)) <= 4, `the bid counts the pool: ${offer.reason}, pool ${reserved} MB`)
  t.is(offer.cost, Math.round(1000 * inUse / 4096))

  // a clone takes a pooled process, and the pool fills again
  const info = await line.clone(held, 'from-pool')
  t.true(pooled.includes(info.pid as number))
  await line.warm([held])
  t.is(pidsMentioning(line.init.workDir).length, 3)
  await line.destroy('from-pool')
  await line.stop({ destroyAll: true })
  t.deepEqual(pidsMentioning(line.init.workDir), [])
})
