import { logger } from '@libp2p/logger'
import { createProgressSchema, type CreateProgress } from '../../interface/index.js'

const log = logger('vmplant:net:progress')

/** A progress frame checked against its schema: a malformed one is dropped (and logged), the request goes on. */
export function progressListener (onProgress: (event: CreateProgress) => void, from: string): (value: unknown) => void {
  return (value) => {
    const event = createProgressSchema.safeParse(value)
    if (event.success) onProgress(event.data)
    else log('dropped a malformed progress frame from %s: %s', from, event.error.issues[0]?.message)
  }
}
