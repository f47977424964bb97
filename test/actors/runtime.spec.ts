import test from 'ava'
import { ActorSystem, seededRandom, systemClock, type Behavior, type Reply } from '../../src/actors/runtime/index.js'
import { ActorFailedError, ActorStoppedError } from '../../src/actors/runtime/errors.js'

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
