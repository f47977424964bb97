import type { Clock } from '../src/interface/index.js'

interface Timer { at: number, seq: number, fire: () => void }

/**
 * Time that moves only when told: sleeps and timeouts are events in a heap, fired in time order
 * (ties in the order they were scheduled). No timer of the host is used, so the real actors run
 * under it exactly as they would under the wall clock, only without waiting.
 */
export class VirtualClock implements Clock {
  private current: number
  private seq = 0
  private readonly heap: Timer[] = []

  /** `start`: the epoch ms the clock reads first; @default 0 */
  constructor (start = 0) {
    this.current = start
  }

  now (): number { return this.current }

  /** events waiting to fire */
  get pending (): number { return this.heap.length }

  async sleep (ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal
    // most sleeps (every message's delay) have no signal: no closure to build, no listener to remove
    if (signal === undefined) return await new Promise<void>((resolve) => { this.schedule(ms, resolve) })
    signal.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { this.cancel(timer); reject(signal.reason) }
      const timer = this.schedule(ms, () => { signal.removeEventListener('abort', onAbort); resolve() })
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  timeout (ms: number): AbortSignal {
    const controller = new AbortController()
    this.schedule(ms, () => { controller.abort(new DOMException(`virtual timeout of ${ms} ms`, 'TimeoutError')) })
    return controller.signal
  }

  /** Fires the earliest event, moving time to it; false when nothing is scheduled. */
  step (): boolean {
    const timer = this.pop()
    if (timer === undefined) return false
    this.current = Math.max(this.current, timer.at)
    timer.fire()
    return true
  }

  /**
   * Runs the world until `work` settles: lets pending callbacks run, and when nothing else can
   * happen, moves time to the next event. Throws when the work waits on an event that will never
   * come (nothing scheduled), or after `maxSteps` events.
   */
  async run<T>(work: Promise<T>, options: { maxSteps?: number } = {}): Promise<T> {
    let settled = false
    const watched = work.finally(() => { settled = true })
    watched.catch(() => {})
    const maxSteps = options.maxSteps ?? 100_000
    for (let steps = 0; ; steps++) {
      // the world is quiet between events, so a turn of the host's loop now changes nothing in
      // it: it lets host timers, I/O and signals in (the run would otherwise never leave the
      // microtask queue)
      if (steps % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn()
      await settle()
      if (settled) return await watched
      if (steps >= maxSteps) throw new Error(`virtual clock: work not done after ${maxSteps} events`)
      if (!this.step()) {
        await settle()
        if (settled) return await watched
        throw new Error(`virtual clock: work waits at t=${this.current} ms but no event is scheduled`)
      }
    }
  }

  /**
   * Reserves `count` tie-breaks for events to be scheduled later with `scheduleAt`, which then
   * fire as if they had been scheduled now: a run can feed its arrivals one at a time instead of
   * holding them all in the heap from the start, and fire them in the very same order. Returns the
   * first of them.
   */
  reserve (count: number): number {
    const first = this.seq
    this.seq += count
    return first
  }

  /** Schedules `fire` at virtual time `at` (at the earliest now) with a tie-break from `reserve`. */
  scheduleAt (at: number, seq: number, fire: () => void): void {
    if (seq >= this.seq) throw new RangeError(`virtual clock: tie-break ${seq} was not reserved`)
    this.push({ at: Math.max(this.current, at), seq, fire })
  }

  private schedule (ms: number, fire: () => void): Timer {
    return this.push({ at: this.current + Math.max(0, ms), seq: this.seq++, fire })
  }

  private push (timer: Timer): Timer {
    this.heap.push(timer)
    this.siftUp(this.heap.length - 1)
    return timer
  }

  private cancel (timer: Timer): void {
    const i = this.heap.indexOf(timer)
    if (i < 0) return
    const last = this.heap.pop() as Timer
    if (i < this.heap.length) {
      this.heap[i] = last
      this.siftDown(i)
      this.siftUp(i)
    }
  }

  private pop (): Timer | undefined {
    const top = this.heap[0]
    const last = this.heap.pop()
    if (top !== undefined && last !== undefined && this.heap.length > 0) {
      this.heap[0] = last
      this.siftDown(0)
    }
    return top
  }

  /** moves the timer at `i` up to its place, shifting parents down into the hole it leaves */
  private siftUp (i: number): void {
    const heap = this.heap
    const timer = heap[i] as Timer
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = heap[parent] as Timer
      if (!before(timer, p)) break
      heap[i] = p
      i = parent
    }
    heap[i] = timer
  }

  /** moves the timer at `i` down to its place, shifting the earlier child up into the hole */
  private siftDown (i: number): void {
    const heap = this.heap
    const n = heap.length
    const timer = heap[i] as Timer
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let child = l
      let c = heap[l] as Timer
      if (r < n && before(heap[r] as Timer, c)) { child = r; c = heap[r] as Timer }
      if (!before(c, timer)) break
      heap[i] = c
      i = child
    }
    heap[i] = timer
  }
}

/** time order, ties in scheduling order */
const before = (x: Timer, y: Timer): boolean => x.at < y.at || (x.at === y.at && x.seq < y.seq)

/** events between two turns of the host's event loop that the world does not need */
const YIELD_EVERY = 256
/** at most this many turns of the host's loop for in-memory I/O, as many as settling always took before */
const MAX_TURNS = 20

/**
 * Lets every callback that is ready run: promise reactions first, then, while the host has
 * immediates or file requests pending (memory-level's iterators breathe with setImmediate every
 * 500 keys), turns of its event loop. The actors, the in-memory network and stores and the sim
 * line run on promise reactions alone, so almost every event settles with no turn of the loop:
 * 20 turns after every event were most of what an event cost.
 */
async function settle (): Promise<void> {
  await microtasksDrained()
  for (let turns = 0; turns < MAX_TURNS && hostWorkPending(); turns++) await nextTurn()
}

/**
 * Resolves when the microtask queue is empty. Node runs a next tick queued from inside a
 * microtask only after it has run every microtask, those queued meanwhile included; the
 * `queueMicrotask` first makes sure the tick is queued from inside one.
 */
async function microtasksDrained (): Promise<void> {
  await new Promise<void>((resolve) => { queueMicrotask(() => { process.nextTick(resolve) }) })
}

function hostWorkPending (): boolean {
  for (const resource of process.getActiveResourcesInfo()) {
    if (resource === 'Immediate' || resource.startsWith('FSReq')) return true
  }
  return false
}

async function nextTurn (): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve))
}
