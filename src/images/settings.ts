import { InvalidImagesInitError } from './errors.js'
import type { PeerImagesInit } from './types.js'

export const PEER_IMAGES_DEFAULTS = {
  logPrefix: 'vmplant:images',
  lookupTimeoutMs: 3000,
  maxPeers: 4,
  prefixProbes: 4,
  cacheMs: 30_000,
  maxFetchAttempts: 3,
  provideConcurrency: 4,
  maxInboundStreams: 16
} as const

export type PeerImagesSettings = Required<PeerImagesInit>

/** The init with its defaults; throws InvalidImagesInitError naming the first option that cannot be used. */
export function validatePeerImagesInit (init: PeerImagesInit): PeerImagesSettings {
  const settings: PeerImagesSettings = { ...PEER_IMAGES_DEFAULTS, now: Date.now, ...stripUndefined(init) }
  if (typeof settings.dir !== 'string' || settings.dir === '') throw new InvalidImagesInitError('dir', 'must be a folder')
  if (!Number.isInteger(settings.cacheMs) || settings.cacheMs < 0) throw new InvalidImagesInitError('cacheMs', `must be an integer of 0 or more, not ${String(settings.cacheMs)}`)
  for (const key of ['lookupTimeoutMs', 'maxPeers', 'prefixProbes', 'maxFetchAttempts', 'provideConcurrency', 'maxInboundStreams'] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] < 1) throw new InvalidImagesInitError(key, `must be a positive integer, not ${String(settings[key])}`)
  }
  return settings
}

function stripUndefined<T extends object> (value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

/** The promise, or the signal's reason when it aborts first (the work itself goes on for others who wait on it). */
export async function raceSignal<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return await promise
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}
