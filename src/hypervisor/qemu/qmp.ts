import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AbortOptions } from '../index.js'
import { QmpClosedError, QmpCommandError, QmpProtocolError } from './errors.js'

/** An asynchronous QMP event, such as `MIGRATION` or `SHUTDOWN`. */
export interface QmpEvent {
  event: string
  data?: Record<string, unknown>
  timestamp?: { seconds: number, microseconds: number }
}

/** An event line as a QmpEvent: its data and timestamp kept when they are objects, as QEMU sends them. */
function qmpEvent (name: string, message: Record<string, unknown>): QmpEvent {
  const event: QmpEvent = { event: name }
  const { data, timestamp } = message
  if (typeof data === 'object' && data !== null) event.data = data as Record<string, unknown>
  if (typeof timestamp === 'object' && timestamp !== null) event.timestamp = timestamp as NonNullable<QmpEvent['timestamp']>
  return event
}

interface Pending { resolve: (value: unknown) => void, reject: (err: Error) => void, command: string }
interface Waiter { match: (event: QmpEvent) => boolean, resolve: (event: QmpEvent) => void, reject: (err: Error) => void }

/**
 * A QMP client over a unix socket: reads the greeting, negotiates capabilities, sends commands
 * with ids, turns `error` replies into QmpCommandError and delivers events to waiters.
 */
export class QmpClient {
  private readonly pending = new Map<string, Pending>()
  private readonly waiters = new Set<Waiter>()
  private nextId = 1
  private buffer = ''
  private closedError: Error | undefined
  private greeted: ((greeting: unknown) => void) | undefined
  /** called for every event, after the waiters */
  onEvent: ((event: QmpEvent) => void) | undefined

  private constructor (private readonly socket: Socket, readonly path: string) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { this.onData(chunk) })
    socket.on('error', (err) => { this.fail(new QmpClosedError(`QMP socket ${path} failed: ${err.message}`, { cause: err })) })
    socket.on('close', () => { this.fail(new QmpClosedError(`QMP socket ${path} closed`)) })
  }

  get closed (): boolean { return this.closedError !== undefined }

  /**
   * Connects, retrying while QEMU has not yet created its socket, until `timeoutMs`.
   * QEMU serves one QMP client at a time: a second client waits until the first leaves.
   */
  static async connect (path: string, options: AbortOptions & { timeoutMs?: number, retryMs?: number } = {}): Promise<QmpClient> {
    options.signal?.throwIfAborted()
    const deadline = Date.now() + (options.timeoutMs ?? 10_000)
    for (;;) {
      try {
        const socket = await openSocket(path, options)
        const client = new QmpClient(socket, path)
        await client.handshake({ signal: options.signal, timeoutMs: Math.max(1, deadline - Date.now()) })
        return client
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() >= deadline) throw err
        await sleep(options.retryMs ?? 2, undefined, { signal: options.signal })
      }
    }
  }

  /** Sends a command and resolves with its `return` value. */
  async execute<T = unknown> (command: string, args?: Record<string, unknown>, options: AbortOptions = {}): Promise<T> {
    options.signal?.throwIfAborted()
    if (this.closedError !== undefined) throw this.closedError
    const id = String(this.nextId++)
    const message = JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id })
    return await new Promise<T>((resolve, reject) => {
      const onAbort = (): void => { this.pending.delete(id); reject(options.signal?.reason) }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      this.pending.set(id, {
        command,
        resolve: (value) => { options.signal?.removeEventListener('abort', onAbort); resolve(value as T) },
        reject: (err) => { options.signal?.removeEventListener('abort', onAbort); reject(err) }
      })
      this.socket.write(message + '\n')
    })
  }

  /**
   * Resolves with the first event that matches. Call it before the command that causes the
   * event, keep the promise, then await it: events are not buffered.
   */
  async waitEvent (name: string, match: (event: QmpEvent) => boolean = () => true, options: AbortOptions = {}): Promise<QmpEvent> {
    options.signal?.throwIfAborted()
    if (this.closedError !== undefined) throw this.closedError
    return await new Promise<QmpEvent>((resolve, reject) => {
      const onAbort = (): void => { this.waiters.delete(waiter); reject(options.signal?.reason) }
      const waiter: Waiter = {
        match: (event) => event.event === name && match(event),
        resolve: (event) => { options.signal?.removeEventListener('abort', onAbort); resolve(event) },
        reject: (err) => { options.signal?.removeEventListener('abort', onAbort); reject(err) }
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.add(waiter)
    })
  }

  close (): void {
    this.fail(new QmpClosedError(`QMP connection to ${this.path} closed by the client`))
    this.socket.destroy()
  }

  private async handshake (options: AbortOptions & { timeoutMs: number }): Promise<void> {
    options.signal?.throwIfAborted()
    const timer = setTimeout(() => { this.fail(new QmpProtocolError(`no QMP greeting on ${this.path} within ${options.timeoutMs} ms`)); this.socket.destroy() }, options.timeoutMs)
    try {
      await new Promise<unknown>((resolve, reject) => {
        if (this.closedError !== undefined) { reject(this.closedError); return }
        this.greeted = resolve
        this.pending.set('greeting', { command: 'greeting', resolve, reject })
      })
      await this.execute('qmp_capabilities', undefined, options)
    } finally {
      clearTimeout(timer)
    }
  }

  private onData (chunk: string): void {
    this.buffer += chunk
    let nl: number
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim()
      this.buffer = this.buffer.slice(nl + 1)
      if (line !== '') this.onMessage(line)
    }
  }

  private onMessage (line: string): void {
    let message: Record<string, unknown>
    try {
      message = JSON.parse(line) as Record<string, unknown>
    } catch (err) {
      this.fail(new QmpProtocolError(`QMP sent a line that is not JSON: ${line.slice(0, 200)}`, { cause: err }))
      this.socket.destroy()
      return
    }
    if ('QMP' in message) {
      const greeted = this.greeted
      this.greeted = undefined
      this.pending.delete('greeting')
      greeted?.(message.QMP)
      return
    }
    if (typeof message.event === 'string') {
      const event = qmpEvent(message.event, message)
      for (const waiter of [...this.waiters]) {
        if (waiter.match(event)) { this.waiters.delete(waiter); waiter.resolve(event) }
      }
      this.onEvent?.(event)
      return
    }
    const id = typeof message.id === 'string' ? message.id : undefined
    const pending = id === undefined ? undefined : this.pending.get(id)
    if (id === undefined || pending === undefined) return
    this.pending.delete(id)
    if ('error' in message) {
      const error = message.error as { class?: string, desc?: string }
      pending.reject(new QmpCommandError(pending.command, error.class ?? 'GenericError', error.desc ?? 'unknown error'))
    } else {
      pending.resolve(message.return)
    }
  }

  private fail (err: Error): void {
    if (this.closedError !== undefined) return
    this.closedError = err
    for (const pending of this.pending.values()) pending.reject(err)
    this.pending.clear()
    for (const waiter of this.waiters) waiter.reject(err)
    this.waiters.clear()
  }
}

async function openSocket (path: string, options: AbortOptions = {}): Promise<Socket> {
  options.signal?.throwIfAborted()
  return await new Promise((resolve, reject) => {
    const socket = connect(path)
    socket.once('connect', () => { socket.removeListener('error', reject); resolve(socket) })
    socket.once('error', reject)
  })
}
