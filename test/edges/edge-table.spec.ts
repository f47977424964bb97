import test from 'ava'
import { commandTypes } from '../../src/edges/index.js'
import type { Role } from '../../src/interface/index.js'
import { libp2pWorld, simWorld, type World } from './worlds.js'

const SPEC = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }
const FAILING = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'broken', run: 'echo no >&2\nexit 3' }] }

/**
 * What a client does, the same in both worlds; between them the steps make every command of the
 * table cross an edge: the gossip and streams of a create (calls, answers, a broker's round, load
 * reports), the order, the VM requests the shop forwards, a failed create's cancels, and a read
 * of a plant's warehouse.
 */
async function exercise (world: World): Promise<void> {
  await world.waitFor(({ command }) => command.to === 'broker' && command.type === 'load.report')
  const { classad } = await world.create(SPEC, 'grid')
  await world.query(classad.vmid)
  await world.list()
  await world.destroy(classad.vmid)
  await world.create(FAILING, 'grid').catch(() => {})
  await world.waitFor(({ command }) => command.type === 'order.cancel')
  await world.warehouseList()
}

/** every row of the table, as `role command` */
const ROWS = (['plant', 'shop', 'broker'] as Role[]).flatMap((role) => commandTypes(role).map((type) => `${role} ${type}`))

/** the answer kinds each row's commands got in a world */
function answers (world: World): Map<string, string[]> {
  const kinds = new Map<string, Set<string>>()
  for (const { command, kind } of world.log) {
    const row = `${command.to} ${command.type}`
    kinds.set(row, (kinds.get(row) ?? new Set()).add(kind))
  }
  return new Map([...kinds].map(([row, set]) => [row, [...set].sort()]))
}

test('every command of the edge table crosses both the libp2p node and the in-memory network, and gets the same kind of answer from each', async (t) => {
  t.timeout(180_000)
  const libp2p = await libp2pWorld(t)
  await exercise(libp2p)
  const sim = await simWorld(t)
  await exercise(sim)
  const overLibp2p = answers(libp2p)
  const overMemory = answers(sim)
  t.log([...overLibp2p].map(([row, kinds]) => `${row}: ${kinds.join(' | ')}`).join('\n'))
  t.true(ROWS.length >= 17, `the table has ${ROWS.length} rows`)
  for (const row of ROWS) {
    t.true(overLibp2p.has(row), `${row} was delivered over libp2p`)
    t.true(overMemory.has(row), `${row} was delivered over the in-memory network`)
    t.deepEqual(overMemory.get(row), overLibp2p.get(row), `${row}: the same kinds of answer`)
  }
  t.deepEqual([...overLibp2p.keys()].filter((row) => !ROWS.includes(row)), [], 'nothing was delivered outside the table')
  // the asks were answered with the contract's results, not only alike
  t.deepEqual(overLibp2p.get('shop client.create'), ['create result', 'error NoBidsError'])
  t.deepEqual(overLibp2p.get('plant vm.list'), ['classads'])
  t.deepEqual(overLibp2p.get('plant bid.call'), ['none'])
})
