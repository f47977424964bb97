import { DeadlineExceededError } from './errors.js'

/**
 * The answer channel of a request. It settles once; later calls are ignored, so an actor that
 * answers after the deadline, or a supervisor that answers for a failed actor, cannot double-reply.
 */
export interface Reply<T> {
  /** aborted when the requester stops waiting (its deadline passed or it gave up) */
  readonly signal: AbortSignal
  readonly settled: boolean
  resolve(value: T): void
  reject(error: Error): void
}

/** An abort reason as an Error; a DOMException is not an Error on every Node version. */
function abortError (reason: unknown): Error {
  if (reason instanceof Error && !(reason.name === 'TimeoutError' || reason.name === 'AbortError')) return reason
  const name = (reason as { name?: string })?.name
  if (name === 'TimeoutError') return new DeadlineExceededError('no reply before the deadline', { cause: reason })
  return new DeadlineExceededError(`request aborted: ${(reason as { message?: string })?.message ?? String(reason)}`, { cause: reason })
}

export function createReply<T> (signal: AbortSignal): { reply: Reply<T>, promise: Promise<T> } {
  let settled = false
  let resolveFn!: (value: T) => void
  let rejectFn!: (error: Error) => void
  const promise = new Promise<T>((resolve, reject) => { resolveFn = resolve; rejectFn = reject })
  const onAbort = (): void => { reply.reject(abortError(signal.reason)) }
  const reply: Reply<T> = {
    signal,
    get settled () { return settled },
    resolve (value) {
      if (settled) return
      settled = true
      signal.removeEventListener('abort', onAbort)
      resolveFn(value)
    },
    reject (error) {
      if (settled) return
      settled = true
      signal.removeEventListener('abort', onAbort)
      rejectFn(error)
    }
  }
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, { once: true })
  return { reply, promise }
}
