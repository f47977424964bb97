import test from 'ava'
import { ActorSystem, DEFAULT_RESTART_BUDGET, seededRandom, systemClock, type ActorRef, type Behavior, type Clock, type Reply } from '../../src/actors/runtime/index.js'
import { ActorFailedError, ActorStoppedError, RestartBudgetExhaustedError } from '../../src/actors/runtime/errors.js'

type CounterMessage =
  | { type: 'add', n: number, reply: Reply<number> }
  | { type: 'boom', reply: Reply<number> }
  | { type: 'slow', ms: number, reply: Reply<string> }
  | { type: 'slow.done', reply: Reply<string> }

function counter (inits: { count: number }): Behavior<{ total: number }, CounterMessage> {
  return {
    init: () => { inits.count++; return { total: 0 } },
    receive (state, message, ctx) {
      switch (message.type) {
        case 'add':
          state.total += message.n
          message.reply.resolve(state.total)
          return state
        case 'boom':
          throw new Error('kaboom')
        case 'slow':
          ctx.task((signal) => ctx.clock.sleep(message.ms, { signal }), () => ({ type: 'slow.done', reply: message.reply }))
          return state
        case 'slow.done':
          message.reply.resolve('done')
          return state
      }
    }
  }
}

const newSystem = (): ActorSystem => new ActorSystem({ clock: systemClock, random: seededRandom(1) })

/** A clock that moves only when the test says; sleeps and timeouts fire as it passes them. */
function manualClock (): Clock & { advance(ms: number): void } {
  let now = 1_700_000_000_000
  const timers = new Set<{ at: number, fire: () => void }>()
  const after = (ms: number, fire: () => void): { at: number, fire: () => void } => {
    const timer = { at: now + ms, fire }
    timers.add(timer)
    return timer
  }
  return {
    now: () => now,
    sleep: async (ms, options = {}) => {
      options.signal?.throwIfAborted()
      await new Promise<void>((resolve, reject) => {
        const timer = after(ms, () => { options.signal?.removeEventListener('abort', onAbort); resolve() })
        const onAbort = (): void => { timers.delete(timer); reject(options.signal?.reason) }
        options.signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
    timeout: (ms) => {
      const controller = new AbortController()
      after(ms, () => { controller.abort(new DOMException('timed out', 'TimeoutError')) })
      return controller.signal
    },
    advance: (ms) => {
      now += ms
      for (const timer of [...timers].sort((a, b) => a.at - b.at)) {
        if (timer.at > now) break
        timers.delete(timer)
        timer.fire()
      }
    }
  }
}

const boom = async (ref: ActorRef<CounterMessage>): Promise<unknown> => ref.ask<number>((reply) => ({ type: 'boom', reply })).catch((err: unknown) => err)
const add = async (ref: ActorRef<CounterMessage>, n: number): Promise<number> => ref.ask<number>((reply) => ({ type: 'add', n, reply }))

test('an actor handles its messages one at a time, in order', async (t) => {
  const system = newSystem()
  const ref = await system.spawn('counter', counter({ count: 0 }))
  const results = await Promise.all([1, 2, 3, 4].map(async (n) => ref.ask<number>((reply) => ({ type: 'add', n, reply }))))
  t.deepEqual(results, [1, 3, 6, 10])
  await system.stop()
})

test('an actor that throws is restarted from init, and the failed message gets an error reply', async (t) => {
  const system = newSystem()
  const inits = { count: 0 }
  const ref = await system.spawn('counter', counter(inits))
  await ref.ask<number>((reply) => ({ type: 'add', n: 5, reply }))
  const error = await t.throwsAsync(ref.ask<number>((reply) => ({ type: 'boom', reply })), { instanceOf: ActorFailedError })
  t.regex(error.message, /kaboom/)
  t.is(inits.count, 2)
  t.is(await ref.ask<number>((reply) => ({ type: 'add', n: 1, reply })), 1, 'state was rebuilt')
  await system.stop()
})

test('an actor that keeps failing is stopped and its parent is told', async (t) => {
  const system = newSystem()
  const failures: Error[] = []
  const ref = await system.spawn('counter', counter({ count: 0 }), { maxRestarts: 1, onFailure: (e) => failures.push(e) })
  await t.throwsAsync(ref.ask<number>((reply) => ({ type: 'boom', reply })))
  await t.throwsAsync(ref.ask<number>((reply) => ({ type: 'boom', reply })))
  t.is(failures.length, 1)
  await t.throwsAsync(ref.ask<number>((reply) => ({ type: 'add', n: 1, reply })), { instanceOf: ActorStoppedError })
  await system.stop()
})

test('failures spread over time never exhaust the restart budget', async (t) => {
  const clock = manualClock()
  const exhausted: Error[] = []
  const system = new ActorSystem({ clock, random: seededRandom(1), onExhausted: (e) => exhausted.push(e) })
  const inits = { count: 0 }
  const ref = await system.spawn('counter', counter(inits))
  // one failure every 7 s: at most 9 fall within any 60 s, and 50 in all is five times the budget
  for (let i = 0; i < 50; i++) {
    t.true(await boom(ref) instanceof ActorFailedError)
    clock.advance(7_000)
  }
  t.is(await add(ref, 3), 3, 'still running, from a fresh state')
  t.is(inits.count, 51)
  t.deepEqual(exhausted, [])
  await system.stop()
})

test('the restart budget is counted per window: a full burst, a window later, is allowed again', async (t) => {
  const clock = manualClock()
  const exhausted: Error[] = []
  const system = new ActorSystem({ clock, random: seededRandom(1), onExhausted: (e) => exhausted.push(e) })
  const ref = await system.spawn('counter', counter({ count: 0 }), { maxRestarts: 3, restartWindowMs: 1_000 })
  for (let i = 0; i < 3; i++) await boom(ref)
  clock.advance(999)
  t.true(await boom(ref) instanceof RestartBudgetExhaustedError, 'a fourth failure 999 ms after the first three is one too many')
  t.is(exhausted.length, 1)

  const again = await system.spawn('again', counter({ count: 0 }), { maxRestarts: 3, restartWindowMs: 1_000 })
  for (let i = 0; i < 3; i++) await boom(again)
  clock.advance(1_000)
  for (let i = 0; i < 3; i++) t.false(await boom(again) instanceof RestartBudgetExhaustedError, 'the first three left the window')
  t.is(await add(again, 2), 2)
  t.is(exhausted.length, 1)
  await system.stop()
})

test('a burst of failures exhausts the budget: the actor stops and the system is told once, clearly', async (t) => {
  const clock = manualClock()
  const exhausted: ActorFailedError[] = []
  const parent: ActorFailedError[] = []
  const system = new ActorSystem({ clock, random: seededRandom(1), onExhausted: (e) => exhausted.push(e) })
  const inits = { count: 0 }
  const ref = await system.spawn('plant', counter(inits), { onFailure: (e) => parent.push(e) })
  const { maxRestarts, restartWindowMs } = DEFAULT_RESTART_BUDGET
  t.deepEqual([maxRestarts, restartWindowMs], [10, 60_000])
  for (let i = 0; i < maxRestarts; i++) {
    t.true(await boom(ref) instanceof ActorFailedError)
    clock.advance(1_000)
  }
  t.deepEqual(exhausted, [], 'ten failures in ten seconds are within the budget')
  const last = await boom(ref)
  t.true(last instanceof RestartBudgetExhaustedError, 'the failed message is answered with why the actor stopped')
  t.is(inits.count, 1 + maxRestarts, 'not restarted after the eleventh failure')

  t.is(exhausted.length, 1)
  const error = exhausted[0] as RestartBudgetExhaustedError
  t.true(error instanceof RestartBudgetExhaustedError)
  t.true(error instanceof ActorFailedError)
  t.is(error.actor, 'plant')
  t.is(error.failures, 11)
  t.is(error.messageType, 'boom')
  t.is(error.message, 'actor plant failed 11 times within 60000 ms, more than its restart budget (10 restarts per 60000 ms) allows, and was stopped; last failure: actor plant failed while handling boom: kaboom')
  t.regex(String(((error.cause as Error).cause as Error).message), /kaboom/)
  t.deepEqual(parent, exhausted, 'the parent is told the same')
  t.is(last, error)

  await t.throwsAsync(add(ref, 1), { instanceOf: ActorStoppedError })
  await boom(ref)
  t.is(exhausted.length, 1, 'told once')
  await system.stop()
  t.is(exhausted.length, 1)
})

test('an actor whose init throws during a restart stops, and the system is told', async (t) => {
  const exhausted: ActorFailedError[] = []
  const system = new ActorSystem({ clock: manualClock(), random: seededRandom(1), onExhausted: (e) => exhausted.push(e) })
  let inits = 0
  const fragile: Behavior<{ total: number }, CounterMessage> = {
    ...counter({ count: 0 }),
    init: () => { if (inits++ > 0) throw new Error('store is gone'); return { total: 0 } }
  }
  const ref = await system.spawn('fragile', fragile)
  await boom(ref)
  t.is(exhausted.length, 1)
  t.false(exhausted[0] instanceof RestartBudgetExhaustedError)
  t.is(exhausted[0]?.messageType, 'restart')
  t.regex(exhausted[0]?.message ?? '', /actor fragile failed while handling restart: store is gone/)
  await t.throwsAsync(add(ref, 1), { instanceOf: ActorStoppedError })
  await system.stop()
})

test('a failure while the system stops does not count as the node failing', async (t) => {
  const clock = manualClock()
  const exhausted: ActorFailedError[] = []
  const system = new ActorSystem({ clock, random: seededRandom(1), onExhausted: (e) => exhausted.push(e) })
  const slowToFail: Behavior<null, { type: 'fail.later' }> = {
    init: () => null,
    receive: async (_state, _message, ctx) => { await ctx.clock.sleep(10); throw new Error('failed on the way out') }
  }
  const ref = await system.spawn('slow', slowToFail, { maxRestarts: 0 })
  ref.send({ type: 'fail.later' })
  const stopping = system.stop()
  clock.advance(10)
  await stopping
  t.deepEqual(exhausted, [])
})

test('spawn refuses a restart budget that makes no sense, naming the option', async (t) => {
  const system = newSystem()
  await t.throwsAsync(system.spawn('a', counter({ count: 0 }), { maxRestarts: -1 }), { instanceOf: RangeError, message: /^maxRestarts: / })
  await t.throwsAsync(system.spawn('b', counter({ count: 0 }), { restartWindowMs: 0 }), { instanceOf: RangeError, message: /^restartWindowMs: / })
  await t.throwsAsync(system.spawn('c', counter({ count: 0 }), { maxRestarts: 1.5 }), { instanceOf: RangeError, message: /^maxRestarts: / })
  await system.stop()
})

test('a request past its deadline rejects, and the mailbox keeps working during slow tasks', async (t) => {
  const system = newSystem()
  const ref = await system.spawn('counter', counter({ count: 0 }))
  const slow = ref.ask<string>((reply) => ({ type: 'slow', ms: 200, reply }))
  t.is(await ref.ask<number>((reply) => ({ type: 'add', n: 2, reply })), 2, 'answered while the slow task runs')
  t.is(await slow, 'done')
  await t.throwsAsync(ref.ask<string>((reply) => ({ type: 'slow', ms: 5_000, reply }), { signal: AbortSignal.timeout(50) }), { name: 'DeadlineExceededError' })
  await system.stop()
})

test('stopping the system rejects waiting requests instead of leaving them hanging', async (t) => {
  const system = newSystem()
  const ref = await system.spawn('counter', counter({ count: 0 }))
  const pending = ref.ask<string>((reply) => ({ type: 'slow', ms: 10_000, reply }))
  await system.stop()
  await t.throwsAsync(Promise.race([pending, new Promise((_resolve, reject) => setTimeout(() => { reject(new Error('still hanging')) }, 2000))]), { instanceOf: ActorStoppedError })
  await t.throwsAsync(ref.ask<number>((reply) => ({ type: 'add', n: 1, reply })), { instanceOf: ActorStoppedError })
})

test('seeded randomness repeats', (t) => {
  const a = seededRandom(42)
  const b = seededRandom(42)
  t.deepEqual([a.next(), a.int(10), a.hex(4)], [b.next(), b.int(10), b.hex(4)])
})
