import { logger, type Logger } from '@libp2p/logger'
import { ActorFailedError, ActorStoppedError, MailboxFullError, RestartBudgetExhaustedError } from './errors.js'
import { createReply, type Reply } from './reply.js'
import type { Clock, Random } from '../../interface/clock.js'
import { EventHub, type ActorEvent, type ActorEvents } from './events.js'
import { DEFAULT_MAILBOX_LIMIT, DEFAULT_RESTART_BUDGET, validateSpawnOptions, type SpawnOptions } from './spawn-options.js'

export interface Message { type: string, reply?: Reply<any> }

/** What an actor may touch besides its own state; `E`: the domain events it emits. */
export interface ActorContext<M extends Message, E extends ActorEvent = never> {
  readonly name: string
  readonly self: ActorRef<M>
  readonly clock: Clock
  readonly random: Random
  readonly log: Logger
  /**
   * Runs slow work (a VM production, a network round) outside the mailbox so the actor keeps
   * handling messages; the outcome comes back to the actor as a message.
   */
  task<T>(work: (signal: AbortSignal) => Promise<T>, toMessage: (outcome: TaskOutcome<T>) => M): void
  /** Tells the actor's observers (its ref's `events`) what happened; they cannot answer back. */
  emit(event: E): void
}

export type TaskOutcome<T> = { ok: true, value: T } | { ok: false, error: Error }

export interface Behavior<S, M extends Message, E extends ActorEvent = never> {
  /** Builds the state at start and again after every restart. */
  init(ctx: ActorContext<M, E>): Promise<S> | S
  /** One transition: the current state and one message give the next state. */
  receive(state: S, message: M, ctx: ActorContext<M, E>): Promise<S> | S
  /** Called once when the actor stops, with its last state. */
  stop?(state: S, ctx: ActorContext<M, E>): Promise<void> | void
}

/** `E`: the domain events it emits; a ref typed without them (one only sent to) takes any actor's */
export interface ActorRef<M extends Message, E extends ActorEvent = any> {
  readonly name: string
  /** the domain events the actor emits; subscribe after `spawn` (what `init` emits is not seen) */
  readonly events: ActorEvents<E>
  send(message: M): void
  /** Sends a message that carries a reply, and waits for the reply until the signal aborts. */
  ask<T>(build: (reply: Reply<T>) => M, options?: { signal?: AbortSignal }): Promise<T>
}

export interface ActorSystemInit {
  clock: Clock
  random: Random
  /** log prefix, one per node when several share a process; @default 'vmplant' */
  logPrefix?: string
  /** sees every message sent through the system, for tracing */
  trace?: (to: string, message: Message) => void
  /**
   * Called once for each actor that failures stopped for good, after its mailbox was emptied
   * (waiting requests rejected with ActorStoppedError) and its `stop` ran; the system and its
   * other actors keep running. `error` is a RestartBudgetExhaustedError when the actor failed
   * more than `maxRestarts` times within `restartWindowMs`, or an ActorFailedError with
   * `messageType` 'restart' when its `init` threw while it was being restarted.
   *
   * A node cannot do its job without its actors, so the daemon stops the node here and exits
   * non-zero with `error.message`, and its supervisor (systemd) starts it afresh. Exceptions
   * thrown by the hook are logged and ignored.
   */
  onExhausted?: (error: ActorFailedError) => void
}

/** Owns the actors of one node: their mailboxes, their supervision and their shutdown. */
export class ActorSystem {
  readonly clock: Clock
  readonly random: Random
  private readonly logPrefix: string
  private readonly trace?: (to: string, message: Message) => void
  private readonly onExhausted?: (error: ActorFailedError) => void
  private readonly cells = new Map<string, Cell<any, any, any>>()

  constructor (init: ActorSystemInit) {
    this.clock = init.clock
    this.random = init.random
    this.logPrefix = init.logPrefix ?? 'vmplant'
    this.trace = init.trace
    this.onExhausted = init.onExhausted
  }

  async spawn<S, M extends Message, E extends ActorEvent = never> (name: string, behavior: Behavior<S, M, E>, options: SpawnOptions = {}): Promise<ActorRef<M, E>> {
    if (this.cells.has(name)) throw new Error(`an actor named ${name} already runs`)
    validateSpawnOptions(options)
    const cell = new Cell<S, M, E>(name, behavior, options, this, logger(`${this.logPrefix}:${name}`))
    this.cells.set(name, cell)
    await cell.start()
    return cell.ref
  }

  /** every send passes here, so that one place can trace traffic */
  relay<M extends Message>(cell: Cell<any, M, any>, message: M): void {
    this.trace?.(cell.name, message)
    cell.enqueue(message)
  }

  /** @internal a cell that failures stopped for good reports here, once */
  reportExhausted (error: ActorFailedError, log: Logger): void {
    try {
      this.onExhausted?.(error)
    } catch (err) {
      log.error('the onExhausted hook threw: %e', err)
    }
  }

  async stop (): Promise<void> {
    const cells = [...this.cells.values()]
    this.cells.clear()
    // every actor refuses new messages from this moment, then each finishes its current one
    await Promise.all(cells.map(async (cell) => cell.stop()))
  }
}

class Cell<S, M extends Message, E extends ActorEvent> {
  readonly ref: ActorRef<M, E>
  private state!: S
  private readonly mailbox: M[] = []
  private running = false
  private stopped = false
  private finalized = false
  private draining?: Promise<void>
  /** when the failures still inside the restart window happened, on the system's clock, oldest first */
  private readonly failures: number[] = []
  private readonly tasks = new Set<AbortController>()
  /** replies this actor owes; rejected when it stops, so that no requester waits forever */
  private readonly owed = new Set<Reply<any>>()
  private readonly ctx: ActorContext<M, E>

  constructor (
    readonly name: string,
    private readonly behavior: Behavior<S, M, E>,
    private readonly options: SpawnOptions,
    private readonly system: ActorSystem,
    log: Logger
  ) {
    const send = (message: M): void => { system.relay(this, message) }
    const events = new EventHub<E>(log)
    this.ref = {
      name,
      events,
      send,
      ask: async <T>(build: (reply: Reply<T>) => M, opts: { signal?: AbortSignal } = {}): Promise<T> => {
        opts.signal?.throwIfAborted()
        const { reply, promise } = createReply<T>(opts.signal ?? new AbortController().signal)
        send(build(reply))
        return promise
      }
    }
    this.ctx = {
      name,
      self: this.ref,
      clock: system.clock,
      random: system.random,
      log,
      task: (work, toMessage) => { this.runTask(work, toMessage) },
      emit: (event) => { events.dispatch(event) }
    }
  }

  async start (): Promise<void> {
    this.state = await this.behavior.init(this.ctx)
  }

  enqueue (message: M): void {
    if (this.stopped) {
      message.reply?.reject(new ActorStoppedError(this.name))
      return
    }
    const limit = this.options.mailboxLimit ?? DEFAULT_MAILBOX_LIMIT
    if (this.mailbox.length >= limit) {
      message.reply?.reject(new MailboxFullError(this.name, limit))
      return
    }
    if (message.reply !== undefined) this.owe(message.reply)
    this.mailbox.push(message)
    if (!this.running) this.draining = this.drain()
  }

  private owe (reply: Reply<any>): void {
    if (this.owed.size >= 1024) for (const r of this.owed) if (r.settled) this.owed.delete(r)
    this.owed.add(reply)
  }

  private async drain (): Promise<void> {
    this.running = true
    try {
      while (this.mailbox.length > 0 && !this.stopped) {
        const message = this.mailbox.shift() as M
        try {
          this.state = await this.behavior.receive(this.state, message, this.ctx)
        } catch (err) {
          await this.fail(message, err)
        }
      }
    } finally {
      this.running = false
    }
  }

  /**
   * The supervisor's part: log, answer the failed message with an error, and restart from init
   * unless the actor failed more than its budget allows within the window; then stop it and tell
   * its parent and the system.
   */
  private async fail (message: M, cause: unknown): Promise<void> {
    const error = new ActorFailedError(this.name, message.type, cause)
    const maxRestarts = this.options.maxRestarts ?? DEFAULT_RESTART_BUDGET.maxRestarts
    const restartWindowMs = this.options.restartWindowMs ?? DEFAULT_RESTART_BUDGET.restartWindowMs
    const now = this.system.clock.now()
    while (this.failures.length > 0 && now - (this.failures[0] as number) >= restartWindowMs) this.failures.shift()
    this.failures.push(now)
    if (this.failures.length > maxRestarts) {
      const exhausted = new RestartBudgetExhaustedError(this.name, { failures: this.failures.length, maxRestarts, restartWindowMs }, error)
      message.reply?.reject(exhausted)
      this.ctx.log.error('failed handling %s, %d times within %d ms: stopping: %e', message.type, this.failures.length, restartWindowMs, cause)
      await this.stopForGood(exhausted)
      return
    }
    message.reply?.reject(error)
    this.ctx.log.error('failed handling %s, restarting (%d of %d restarts within %d ms): %e', message.type, this.failures.length, maxRestarts, restartWindowMs, cause)
    try {
      this.state = await this.behavior.init(this.ctx)
    } catch (initError) {
      this.ctx.log.error('cannot restart, stopping: %e', initError)
      await this.stopForGood(new ActorFailedError(this.name, 'restart', initError))
    }
  }

  private async stopForGood (error: ActorFailedError): Promise<void> {
    // the system is stopping this actor anyway: a failure on the way out is not the node's failure
    if (this.stopped) return
    try {
      this.options.onFailure?.(error)
    } catch (err) {
      this.ctx.log.error('onFailure threw: %e', err)
    }
    await this.shutdown().catch((err) => { this.ctx.log.error('stop failed: %e', err) })
    this.system.reportExhausted(error, this.ctx.log)
  }

  private runTask<T>(work: (signal: AbortSignal) => Promise<T>, toMessage: (outcome: TaskOutcome<T>) => M): void {
    const controller = new AbortController()
    this.tasks.add(controller)
    work(controller.signal).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error : new Error(String(error)) })
    ).then((outcome) => {
      this.tasks.delete(controller)
      if (!this.stopped) this.system.relay(this, toMessage(outcome))
    }, () => {})
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    const draining = this.running ? this.draining : undefined
    this.stopped = true
    await draining?.catch(() => {})
    await this.shutdown()
  }

  /** also reached from inside the mailbox loop, so it must not wait for that loop */
  private async shutdown (): Promise<void> {
    this.stopped = true
    for (const task of this.tasks) task.abort(new ActorStoppedError(this.name))
    this.mailbox.splice(0)
    for (const reply of this.owed) reply.reject(new ActorStoppedError(this.name))
    this.owed.clear()
    if (this.finalized) return
    this.finalized = true
    await this.behavior.stop?.(this.state, this.ctx)
  }
}
