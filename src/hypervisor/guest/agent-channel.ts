import { connect, type Socket } from 'node:net'
import type { AbortOptions } from '../index.js'
import { GuestAgentError, GuestAgentTimeoutError } from './errors.js'

/**
 * The byte stream under an agent client: hands each chunk to `onData`, turns the stream's end
 * into the error every later read or write throws, and lets one reader wait for more bytes.
 */
export class AgentChannel {
  private closed: Error | undefined
  private wake: (() => void) | undefined

  constructor (private readonly socket: Socket, onData: (chunk: Buffer) => void) {
    socket.on('data', (chunk: Buffer) => { onData(chunk); this.notify() })
    socket.on('error', (err) => { this.closed ??= new GuestAgentError(`agent channel failed: ${err.message}`, { cause: err }); this.notify() })
    socket.on('close', () => { this.closed ??= new GuestAgentError('agent channel closed'); this.notify() })
  }

  get isClosed (): boolean { return this.closed !== undefined }

  write (data: string | Buffer): void {
    if (this.closed !== undefined) throw this.closed
    this.socket.write(data)
  }

  close (): void {
    this.closed ??= new GuestAgentError('agent channel closed by the host')
    this.socket.destroy()
    this.notify()
  }

  /** Resolves at the next chunk (or the stream's end); rejects at once if the stream has ended. */
  async waitForData (signal: AbortSignal): Promise<void> {
    if (this.closed !== undefined) throw this.closed
    signal.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { this.wake = undefined; reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      this.wake = () => { signal.removeEventListener('abort', onAbort); resolve() }
    })
  }

  private notify (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

/** Runs `fn` with a signal that fires at the deadline (as GuestAgentTimeoutError) or when the caller aborts. */
export async function withDeadline<T> (ms: number, outer: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new GuestAgentTimeoutError(`guest agent did not answer within ${ms} ms`)), ms)
  try {
    return await fn(outer === undefined ? controller.signal : AbortSignal.any([controller.signal, outer]))
  } finally {
    clearTimeout(timer)
  }
}

/** Connects to the agent's unix socket (a QEMU chardev, or the UML line's socket). */
export async function connectAgentSocket (path: string, options: AbortOptions = {}): Promise<Socket> {
  options.signal?.throwIfAborted()
  return await new Promise<Socket>((resolve, reject) => {
    const s = connect(path)
    const onAbort = (): void => { s.destroy(); reject(options.signal?.reason) }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    s.once('connect', () => { options.signal?.removeEventListener('abort', onAbort); resolve(s) })
    s.once('error', (err) => { options.signal?.removeEventListener('abort', onAbort); reject(new GuestAgentError(`cannot connect to the agent at ${path}: ${err.message}`, { cause: err })) })
  })
}
