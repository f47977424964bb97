import test from 'ava'
import { ActorSystem, seededRandom, systemClock, type Behavior, type Reply } from '../../src/actors/runtime/index.js'

type Message = { type: 'add', n: number, reply: Reply<number> }
type Event = { type: 'added', n: number, total: number } | { type: 'big', total: number }

const adder: Behavior<{ total: number }, Message, Event> = {
  init: () => ({ total: 0 }),
  receive (state, message, ctx) {
    state.total += message.n
    ctx.emit({ type: 'added', n: message.n, total: state.total })
    if (state.total >= 10) ctx.emit({ type: 'big', total: state.total })
    message.reply.resolve(state.total)
    return state
  }
}

const newSystem = (t: { teardown: (fn: () => Promise<void>) => void }): ActorSystem => {
  const system = new ActorSystem({ clock: systemClock, random: seededRandom(1) })
  t.teardown(async () => { await system.stop() })
  return system
}

test('an actor\'s events reach the subscribers of its ref, by type and in order', async (t) => {
  const ref = await newSystem(t).spawn('adder', adder)
  const added: number[] = []
  const big: number[] = []
  ref.events.addEventListener('added', (event) => { added.push(event.n) })
  ref.events.addEventListener('big', (event) => { big.push(event.total) })
  for (const n of [3, 4, 5]) await ref.ask<number>((reply) => ({ type: 'add', n, reply }))
  t.deepEqual(added, [3, 4, 5])
  t.deepEqual(big, [12])
})

test('a listener that throws is logged: the actor goes on and the other listeners still hear', async (t) => {
  const ref = await newSystem(t).spawn('adder', adder)
  const heard: number[] = []
  ref.events.addEventListener('added', () => { throw new Error('a broken observer') })
  ref.events.addEventListener('added', (event) => { heard.push(event.total) })
  t.is(await ref.ask<number>((reply) => ({ type: 'add', n: 2, reply })), 2)
  t.is(await ref.ask<number>((reply) => ({ type: 'add', n: 2, reply })), 4)
  t.deepEqual(heard, [2, 4])
})

test('a listener removed, or whose signal aborted, hears no more', async (t) => {
  const ref = await newSystem(t).spawn('adder', adder)
  const removed: number[] = []
  const aborted: number[] = []
  const listener = (event: { total: number }): void => { removed.push(event.total) }
  const controller = new AbortController()
  ref.events.addEventListener('added', listener)
  ref.events.addEventListener('added', (event) => { aborted.push(event.total) }, { signal: controller.signal })
  await ref.ask<number>((reply) => ({ type: 'add', n: 1, reply }))
  ref.events.removeEventListener('added', listener)
  controller.abort()
  await ref.ask<number>((reply) => ({ type: 'add', n: 1, reply }))
  t.deepEqual(removed, [1])
  t.deepEqual(aborted, [1])
})
