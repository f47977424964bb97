/**
 * The warm pool's sizing rule (issue 11 item 3): the pool holds what the recent claims ask for
 * while one refill runs, between `poolSize` and `poolMax`, within the memory it may take; the
 * claim rate comes from the last claims' times and falls to nothing past the horizon. And a line's
 * config refuses a `poolMax` below `poolSize`, naming the field.
 */
import test from 'ava'
import { arrivalRate, poolTarget, RATE_HORIZON_MS, type PoolSizing } from '../../src/hypervisor/qemu/pool-sizing.js'
import { createQemuLineInit, InvalidQemuLineInitError } from '../../src/hypervisor/qemu/index.js'

const base: PoolSizing = { min: 2, max: 12, ratePerSecond: 0, refillMs: 500, spareMB: 10_000, processMB: 40 }

test('with no claims the pool keeps poolSize', (t) => {
  t.is(poolTarget(base), 2)
})

test('the pool holds the clones claimed during one refill: rate times refill time', (t) => {
  t.is(poolTarget({ ...base, ratePerSecond: 10, refillMs: 500 }), 5)
  t.is(poolTarget({ ...base, ratePerSecond: 10, refillMs: 800 }), 8)
  // a fraction of a process is a whole one
  t.is(poolTarget({ ...base, ratePerSecond: 7, refillMs: 500 }), 4)
})

test('the pool never grows beyond poolMax, nor shrinks below poolSize', (t) => {
  t.is(poolTarget({ ...base, ratePerSecond: 100, refillMs: 1000 }), 12)
  t.is(poolTarget({ ...base, ratePerSecond: 1, refillMs: 1000 }), 2)
})

test('the pool grows only as far as the spare memory pays for, at the measured process size', (t) => {
  // 120 MB spare at 40 MB each: 3 more than poolSize
  t.is(poolTarget({ ...base, ratePerSecond: 100, refillMs: 1000, spareMB: 120 }), 5)
  t.is(poolTarget({ ...base, ratePerSecond: 100, refillMs: 1000, spareMB: 0 }), 2)
})

test('the claim rate is that of the last claims, held while they are in the horizon', (t) => {
  // a claim every 100 ms: 10 per second
  const times = Array.from({ length: 8 }, (_, i) => 1_000 + i * 100)
  t.is(Math.round(arrivalRate(times, 1_700)), 10)
  // in the pause after a burst the rate holds, so that the grown pool refills
  t.is(Math.round(arrivalRate(times, 5_000)), 10)
  // only the last few claims count: a slower stream after the burst is a slower rate
  const slower = [...times, ...Array.from({ length: 8 }, (_, i) => 3_000 + i * 500)]
  t.is(Math.round(arrivalRate(slower, 7_000)), 2)
  // past the horizon, nothing counts
  t.is(arrivalRate(times, 1_700 + RATE_HORIZON_MS + 1_000), 0)
})

test('two claims are no rate', (t) => {
  t.is(arrivalRate([1_000, 1_010], 1_020), 0)
  t.true(arrivalRate([1_000, 1_010, 1_020], 1_020) > 0)
})

test('a burst of claims grows the pool at once, within poolMax', (t) => {
  const burst = [5_000, 5_020, 5_040, 5_060]
  t.is(poolTarget({ ...base, ratePerSecond: arrivalRate(burst, 5_060), refillMs: 600 }), 12)
})

test('the line refuses a poolMax below poolSize and defaults it to poolSize', (t) => {
  const error = t.throws(() => createQemuLineInit({ workDir: '/tmp/vmplant-sizing', poolSize: 4, poolMax: 2 }), { instanceOf: InvalidQemuLineInitError })
  t.regex(error?.message ?? '', /poolMax/)
  t.is(createQemuLineInit({ workDir: '/tmp/vmplant-sizing', poolSize: 3 }).poolMax, 3)
  t.is(createQemuLineInit({ workDir: '/tmp/vmplant-sizing', poolSize: 3, poolMax: 9 }).poolMax, 9)
})
