import { logger } from '@libp2p/logger'
import { createProgressSchema, type CreateProgress, type ProgressOptions } from '../../interface/index.js'

const log = logger('vmplant:net:progress')

/** A progress frame checked against its schema: a malformed one is dropped (and logged), the request goes on. */
export function progressListener (onProgress: (event: CreateProgress) => void, from: string): (value: unknown) => void {
  return (value) => {
    const event = createProgressSchema.safeParse(value)
    if (event.success) onProgress(event.data)
    else log('dropped a malformed progress frame from %s: %s', from, event.error.issues[0]?.message)
  }
}

/** A create's or an order's options as `call` takes them: its listener behind the schema check. */
export function checkedProgress (options: ProgressOptions, from: string): { signal?: AbortSignal, onProgress?: (value: unknown) => void } {
  const { onProgress, ...rest } = options
  return { ...rest, ...(onProgress !== undefined ? { onProgress: progressListener(onProgress, from) } : {}) }
}
