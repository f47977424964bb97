import test from 'ava'
import { BusyError, BUSY_PREFIX, OrderRefusedError, type BidCall, type Order } from '../../src/interface/index.js'
import { InvalidSpecError } from '../../src/planner/index.js'
import { admitCall, admitOrder, busyReason, type AdmissionView, type Commitments } from '../../src/actors/plant/admission.js'
import { COST_DEFAULTS, costModel, type PlantLoad } from '../../src/pricing/index.js'

const SPEC = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }
const SHOP = 'shop-peer'

const view = (over: Partial<AdmissionView> = {}, load: Partial<PlantLoad> = {}): AdmissionView => ({
  self: 'plant-peer',
  lineKind: 'sim',
  capabilities: { hostActions: [], networks: false, minMemoryMB: 16, liveReattach: false },
  memoryCostMB: (m) => m,
  cost: costModel(COST_DEFAULTS),
  load: () => ({ runningVms: 0, domains: new Set(), networksInUse: 0, memoryUsedMB: 0, memoryCapacityMB: 1024, ...load }),
  maxQueuedOrders: Infinity,
  ...over
})

const order = (over: Partial<Order> = {}): Order => ({
  type: 'order.produce', requestId: 'r-0123456789ab', spec: SPEC, domain: 'grid', owner: 'client', auth: { owner: 'client', ts: 1, sig: 'sig' }, biddingMs: 5, cost: 50, budgetMs: 60_000, ...over
})

/** a plant that answered the shop's call and holds nothing yet */
const called = (): Commitments => ({ calls: new Map([['r-0123456789ab', { caller: SHOP, at: 0 }]]), orders: new Map(), vms: new Map() })

const call: BidCall = { type: 'bid.call', requestId: 'r-0123456789ab', replyTo: { peer: SHOP, addrs: [] }, hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' }, domain: 'grid', actionCount: 1, dag: [{ id: 'hello', identity: 'a'.repeat(64), after: [] }], windowMs: 2000 }

test('an order from the peer the plant answered, that fits, is admitted with what it reserves', (t) => {
  const admitted = admitOrder(view(), called(), order(), SHOP)
  t.like(admitted, { admitted: true, memoryMB: 64, domain: 'grid' })
})

test('an order from a peer that did not call, or one already taken, is refused', (t) => {
  const stranger = admitOrder(view(), called(), order(), 'other-peer')
  t.true(!stranger.admitted && stranger.error instanceof OrderRefusedError)
  t.regex(!stranger.admitted ? stranger.error.message : '', /comes from other-peer, which did not call plant plant-peer/)
  const plant = called()
  plant.vms.set('vm-1', { domain: 'grid', memoryMB: 64, requestId: 'r-0123456789ab', orderedBy: SHOP })
  const taken = admitOrder(view(), plant, order(), SHOP)
  t.regex(!taken.admitted ? taken.error.message : '', /already taken by plant plant-peer/)
})

test('a full queue refuses orders as busy and declines calls with the busy prefix', (t) => {
  const full = view({ maxQueuedOrders: 0 })
  const refused = admitOrder(full, called(), order(), SHOP)
  t.true(!refused.admitted && refused.error instanceof BusyError)
  t.is(busyReason(full, 0), 'plant plant-peer has 0 orders in production, its limit (plant.maxQueuedOrders)')
  t.is(busyReason(view(), 1000), undefined)
  const declined = admitCall(full, 0, call, {})
  t.false(declined.bid)
  t.true(!declined.bid && declined.reason.startsWith(BUSY_PREFIX))
})

test('a bad spec, hardware the line lacks and a host action it cannot attach are refused, each saying why', (t) => {
  const bad = admitOrder(view(), called(), order({ spec: { hardware: { memoryMB: -1 }, actions: [] } }), SHOP)
  t.true(!bad.admitted && bad.error instanceof InvalidSpecError)
  const bigLine = view({ capabilities: { hostActions: [], networks: false, minMemoryMB: 128, liveReattach: false } })
  const small = admitOrder(bigLine, called(), order(), SHOP)
  t.regex(!small.admitted ? small.error.message : '', /plant plant-peer refuses: the guest needs at least 128 MB, not 64/)
  const otherOs = admitOrder(view({ capabilities: { hostActions: [], networks: false, minMemoryMB: 16, os: ['freebsd'], liveReattach: false } }), called(), order(), SHOP)
  t.regex(!otherOs.admitted ? otherOs.error.message : '', /guest image is freebsd, not linux/)
  const withIso = order({ spec: { ...SPEC, actions: [{ id: 'console', type: 'host', host: { attach: 'iso', image: 'vnc.iso' } }] } })
  const noIso = admitOrder(view(), called(), withIso, SHOP)
  t.true(!noIso.admitted && noIso.error instanceof OrderRefusedError)
  t.regex(!noIso.admitted ? noIso.error.message : '', /the sim line cannot attach iso \(action console\)/)
  t.true(admitOrder(view({ capabilities: { hostActions: ['iso'], networks: false, minMemoryMB: 16, liveReattach: false } }), called(), withIso, SHOP).admitted)
})

test('an order the host has no memory for now is refused with the cost model\'s reason; a call is priced the same way', (t) => {
  const crowded = view({}, { memoryUsedMB: 1000 })
  const refused = admitOrder(crowded, called(), order(), SHOP)
  t.true(!refused.admitted && refused.error instanceof OrderRefusedError)
  t.regex(!refused.admitted ? refused.error.message : '', /plant plant-peer refuses: .*MB/)
  t.false(admitCall(crowded, 0, call, {}).bid)
  t.like(admitCall(view(), 0, call, {}), { bid: true, cost: 50 })
})

test('the load is read only when a verdict needs it', (t) => {
  let reads = 0
  const counting = view({ load: () => { reads++; return { runningVms: 0, domains: new Set(), networksInUse: 0, memoryUsedMB: 0, memoryCapacityMB: 1024 } } })
  admitOrder(counting, called(), order(), 'other-peer')
  admitCall({ ...counting, maxQueuedOrders: 0 }, 0, call, {})
  t.is(reads, 0)
  admitOrder(counting, called(), order(), SHOP)
  t.is(reads, 1)
})
