import test from 'ava'
import { OrderExpiredError, type Classad } from '../../src/interface/index.js'
import { isCreating, isFinal, orderTransition, ORDER_STATES, reservedOrder, type OrderEffect, type OrderEvent, type OrderState } from '../../src/actors/plant/order-machine.js'
import type { ProductionResult } from '../../src/actors/plant/production.js'

const terms = { vmid: 'vm-0123abcd.plant', requestId: 'r-0123456789ab', budgetMs: 5000 }
// the machine carries what production made to the commit effect without reading it
const RESULT = { handle: { vmid: terms.vmid } } as unknown as ProductionResult
const CLASSAD: Classad = {
  vmid: terms.vmid, plant: 'plant', domain: 'grid', owner: 'client', state: 'running', memoryMB: 64, os: 'linux', arch: 'x86_64', line: 'sim',
  goldenImage: 'g'.repeat(64), network: { name: 'hostonly-0', index: 0 }, cost: 1, createdAt: new Date(0).toISOString(),
  timings: { biddingMs: 1, cloningMs: 2, configuringMs: 3, totalMs: 6 }, actions: { cloned: [], run: [] }, outputs: {}, attributes: {}, recovered: []
}
const productionError = new Error('the clone failed')
const commitError = new Error('the store is read-only')
const cancelledBefore = new OrderExpiredError('cancelled earlier')
const expiredBefore = new OrderExpiredError('expired earlier')
const failedBefore = new Error('failed earlier')

const STATES: Record<OrderState['name'], OrderState> = {
  reserved: reservedOrder(terms),
  producing: { name: 'producing', terms },
  aborting: { name: 'aborting', terms, reason: 'cancelled', error: cancelledBefore },
  committing: { name: 'committing', terms },
  withdrawing: { name: 'withdrawing', terms, reason: 'expired', error: expiredBefore },
  delivered: { name: 'delivered', terms },
  ended: { name: 'ended', terms, reason: 'failed', error: failedBefore }
}

const EVENTS: Record<OrderEvent['type'], OrderEvent> = {
  start: { type: 'start' },
  produced: { type: 'produced', result: RESULT },
  'production.failed': { type: 'production.failed', error: productionError },
  committed: { type: 'committed', classad: CLASSAD },
  'commit.failed': { type: 'commit.failed', error: commitError },
  cancel: { type: 'cancel' },
  expire: { type: 'expire' }
}

/** what a row expects: the next state (with its reason), and the effects in order ('reject:<reason>' names the reason) */
interface Row { from: OrderState['name'], on: OrderEvent['type'], to: string, effects: string[] }
/** an event the state does not expect: nothing changes */
const same = (from: OrderState['name'], on: OrderEvent['type']): Row => ({ from, on, to: label(STATES[from]), effects: [] })

const TABLE: Row[] = [
  { from: 'reserved', on: 'start', to: 'producing', effects: ['produce', 'arm-expiry'] },
  same('reserved', 'produced'),
  same('reserved', 'production.failed'),
  same('reserved', 'committed'),
  same('reserved', 'commit.failed'),
  { from: 'reserved', on: 'cancel', to: 'ended(cancelled)', effects: ['release', 'reject:cancelled'] },
  { from: 'reserved', on: 'expire', to: 'ended(expired)', effects: ['release', 'reject:expired'] },

  same('producing', 'start'),
  { from: 'producing', on: 'produced', to: 'committing', effects: ['commit'] },
  { from: 'producing', on: 'production.failed', to: 'ended(failed)', effects: ['release', 'reject:failed'] },
  same('producing', 'committed'),
  same('producing', 'commit.failed'),
  { from: 'producing', on: 'cancel', to: 'aborting(cancelled)', effects: ['abort-production'] },
  { from: 'producing', on: 'expire', to: 'aborting(expired)', effects: ['abort-production'] },

  same('aborting', 'start'),
  { from: 'aborting', on: 'produced', to: 'ended(cancelled)', effects: ['release', 'destroy:unrecorded', 'reject:cancelled'] },
  { from: 'aborting', on: 'production.failed', to: 'ended(cancelled)', effects: ['release', 'reject:cancelled'] },
  same('aborting', 'committed'),
  same('aborting', 'commit.failed'),
  same('aborting', 'cancel'),
  same('aborting', 'expire'),

  same('committing', 'start'),
  same('committing', 'produced'),
  same('committing', 'production.failed'),
  { from: 'committing', on: 'committed', to: 'delivered', effects: ['hold', 'resolve', 'learn'] },
  { from: 'committing', on: 'commit.failed', to: 'ended(failed)', effects: ['release', 'destroy:unrecorded', 'reject:failed'] },
  { from: 'committing', on: 'cancel', to: 'withdrawing(cancelled)', effects: [] },
  { from: 'committing', on: 'expire', to: 'withdrawing(expired)', effects: [] },

  same('withdrawing', 'start'),
  same('withdrawing', 'produced'),
  same('withdrawing', 'production.failed'),
  { from: 'withdrawing', on: 'committed', to: 'ended(expired)', effects: ['hold', 'destroy:recorded', 'reject:expired'] },
  { from: 'withdrawing', on: 'commit.failed', to: 'ended(failed)', effects: ['release', 'destroy:unrecorded', 'reject:failed'] },
  same('withdrawing', 'cancel'),
  same('withdrawing', 'expire'),

  same('delivered', 'start'),
  same('delivered', 'produced'),
  same('delivered', 'production.failed'),
  same('delivered', 'committed'),
  same('delivered', 'commit.failed'),
  { from: 'delivered', on: 'cancel', to: 'ended(cancelled)', effects: ['destroy:recorded'] },
  same('delivered', 'expire'),

  ...(['start', 'produced', 'production.failed', 'committed', 'commit.failed', 'cancel', 'expire'] as const).map((on) => same('ended', on))
]

function label (state: OrderState): string {
  return 'reason' in state ? `${state.name}(${state.reason})` : state.name
}

function describe (effect: OrderEffect): string {
  switch (effect.type) {
    case 'destroy': return `destroy:${effect.recorded ? 'recorded' : 'unrecorded'}`
    case 'reject': return `reject:${effect.reason}`
    default: return effect.type
  }
}

test('the table covers every state with every event', (t) => {
  const covered = new Set(TABLE.map((row) => `${row.from} ${row.on}`))
  for (const from of ORDER_STATES) for (const on of Object.keys(EVENTS)) t.true(covered.has(`${from} ${on}`), `${from} on ${on}`)
  t.is(TABLE.length, ORDER_STATES.length * Object.keys(EVENTS).length)
})

for (const row of TABLE) {
  const ignored = row.effects.length === 0 && row.to === label(STATES[row.from])
  test(ignored ? `an order ${row.from} ignores ${row.on}` : `an order ${row.from} on ${row.on} goes ${row.to}${row.effects.length > 0 ? ` and does ${row.effects.join(', ')}` : ''}`, (t) => {
    const from = STATES[row.from]
    const { state, effects } = orderTransition(from, EVENTS[row.on])
    t.is(label(state), row.to)
    t.deepEqual(effects.map(describe), row.effects)
    t.deepEqual(state.terms, terms, 'the terms go with the order')
    if (ignored) t.is(state, from, 'an event that changes nothing leaves the state as it was')
  })
}

test('what the effects carry: the production to commit, the classad to hand over, the error the shop gets', (t) => {
  const commit = orderTransition(STATES.producing, EVENTS.produced).effects[0]
  t.deepEqual(commit, { type: 'commit', result: RESULT })
  t.deepEqual(orderTransition(STATES.committing, EVENTS.committed).effects[1], { type: 'resolve', classad: CLASSAD })
  const failed = orderTransition(STATES.producing, EVENTS['production.failed'])
  t.deepEqual(failed.effects.at(-1), { type: 'reject', reason: 'failed', error: productionError })
  t.deepEqual(orderTransition(STATES.committing, EVENTS['commit.failed']).effects.at(-1), { type: 'reject', reason: 'failed', error: commitError })
  // a withdrawn order whose record could not be written reports the store's error, as a failure
  t.deepEqual(orderTransition(STATES.withdrawing, EVENTS['commit.failed']).effects.at(-1), { type: 'reject', reason: 'failed', error: commitError })
  // the reason an order was aborted for is the one the shop gets when the production ends
  t.deepEqual(orderTransition(STATES.aborting, EVENTS.produced).effects.at(-1), { type: 'reject', reason: 'cancelled', error: cancelledBefore })
  t.deepEqual(orderTransition(STATES.withdrawing, EVENTS.committed).effects.at(-1), { type: 'reject', reason: 'expired', error: expiredBefore })
})

test('a cancel and an expiry each say what happened to which order, as an OrderExpiredError', (t) => {
  const expired = orderTransition(STATES.producing, EVENTS.expire)
  const abort = expired.effects[0]
  t.is(abort?.type, 'abort-production')
  if (abort?.type !== 'abort-production') return
  t.true(abort.reason instanceof OrderExpiredError)
  t.is(abort.reason.message, `order ${terms.requestId} expired after ${terms.budgetMs} ms before ${terms.vmid} was ready; the VM was destroyed`)
  const cancelled = orderTransition(STATES.reserved, EVENTS.cancel).effects.at(-1)
  t.true(cancelled?.type === 'reject' && cancelled.error instanceof OrderExpiredError)
  t.is(cancelled?.type === 'reject' ? cancelled.error.message : '', `order ${terms.requestId} was cancelled by the shop; ${terms.vmid} was destroyed`)
})

test('the first of a cancel and an expiry decides why an order ended', (t) => {
  let state: OrderState = STATES.producing
  for (const on of ['cancel', 'expire', 'produced'] as const) state = orderTransition(state, EVENTS[on]).state
  t.is(label(state), 'ended(cancelled)')
  state = STATES.committing
  for (const on of ['expire', 'cancel', 'committed'] as const) state = orderTransition(state, EVENTS[on]).state
  t.is(label(state), 'ended(expired)')
})

test('only delivered and ended orders are final; those not made yet, or being unmade, are listed as creating', (t) => {
  t.deepEqual(ORDER_STATES.filter((name) => isFinal(STATES[name])), ['delivered', 'ended'])
  t.deepEqual(ORDER_STATES.filter((name) => isCreating(STATES[name])), ['reserved', 'producing', 'aborting'])
})

test('a whole life: reserved, producing, committing, delivered, and a later cancel destroys the recorded VM', (t) => {
  const effects: string[] = []
  let state: OrderState = reservedOrder(terms)
  const names = [state.name as string]
  for (const on of ['start', 'produced', 'committed', 'expire', 'cancel'] as const) {
    const step = orderTransition(state, EVENTS[on])
    state = step.state
    names.push(label(state))
    effects.push(...step.effects.map(describe))
  }
  t.deepEqual(names, ['reserved', 'producing', 'committing', 'delivered', 'delivered', 'ended(cancelled)'])
  t.deepEqual(effects, ['produce', 'arm-expiry', 'commit', 'hold', 'resolve', 'learn', 'destroy:recorded'])
})
