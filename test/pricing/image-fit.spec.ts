import test from 'ava'
import { callRequest, fetchPrice, fitOf, paperCost, COST_DEFAULTS, type PlantLoad } from '../../src/pricing/index.js'
import { indexWarehouse } from '../../src/planner/index.js'
import type { BidCall } from '../../src/interface/index.js'

const hardware = { memoryMB: 64, os: 'linux', arch: 'x86_64' }
const net = 'e'.repeat(64)
const user = 'f'.repeat(64)

const call = (dag?: BidCall['dag']): BidCall => ({
  type: 'bid.call',
  requestId: 'r-1',
  replyTo: { peer: 'shop', addrs: [] },
  hardware,
  domain: 'grid',
  actionCount: dag?.length ?? 0,
  ...(dag !== undefined ? { dag } : {}),
  windowMs: 2000
})

const twoActions: BidCall['dag'] = [{ id: 'net', identity: net, after: [] }, { id: 'user', identity: user, after: ['net'] }]

test('the fetch part of a bid names the image, its holder, its size and the speed used, measured or configured', (t) => {
  const load: PlantLoad = { runningVms: 1, domains: new Set(), networksInUse: 0, memoryUsedMB: 0, memoryCapacityMB: 4096 }
  const model = paperCost({ ...COST_DEFAULTS, noImageCost: 100, actionCost: 10 })
  const verdict = model(load, {
    domain: 'grid',
    memoryMB: 192,
    image: { saves: 2, remaining: 1, local: false, fetch: { id: 'bagaaieraimageid12345678', peer: '12D3KooWholder12345678', bytes: 150_000_000, bytesPerSecond: 50_000_000, measured: true, cost: 3 } }
  })
  t.like(verdict, { bid: true, cost: 4 + 50 + 3 + 10 })
  t.is(verdict.reason, 'compute 4 x 1 VMs = 4, new host-only network 50, fetches golden image 12345678 from 12345678 (150 MB at 50 MB/s measured): 3, saves 2, 1 to run: 10')
})

test('a fetch is priced at its bytes over the measured link speed, else the configured one, rounded', (t) => {
  const config = { bytesPerSecond: 12_500_000, costPerSecond: 3 }
  t.deepEqual(fetchPrice({ bytes: 25_000_000 }, config), { bytesPerSecond: 12_500_000, measured: false, cost: 6 })
  t.deepEqual(fetchPrice({ bytes: 25_000_000, measuredBytesPerSecond: 50_000_000 }, config), { bytesPerSecond: 50_000_000, measured: true, cost: 2 })
})

test('a call\'s DAG becomes a request only when its ids are unique and its edges name known actions', (t) => {
  t.is(callRequest(call()), undefined, 'no DAG')
  t.truthy(callRequest(call(twoActions)))
  t.is(callRequest(call([{ id: 'net', identity: net, after: [] }, { id: 'net', identity: user, after: [] }])), undefined, 'a repeated id')
  t.is(callRequest(call([{ id: 'net', identity: net, after: ['missing'] }])), undefined, 'an edge to an unknown action')
})

test('the image part of a bid: what the best image saves and leaves to run, or every action when none fits', (t) => {
  const withDag = call(twoActions)
  const request = callRequest(withDag)
  t.deepEqual(fitOf(request, indexWarehouse([]), withDag), { image: { saves: 0, remaining: 2, local: false } })
  const index = indexWarehouse([{ id: 'img', cloneCost: 1, descriptor: { format: 'vmplant.golden/1', line: 'sim', hardware: { ...hardware, diskMB: 1024 }, applied: [net], artifacts: [] } }])
  t.deepEqual(fitOf(request, index, withDag), { image: { saves: 1, remaining: 1, local: true } })
  t.deepEqual(fitOf(undefined, index, call()), {}, 'no DAG, no image part')
})
