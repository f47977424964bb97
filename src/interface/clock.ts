/** Time as actors see it; the simulator swaps in a virtual clock. */
export interface Clock {
  /** milliseconds since the epoch */
  now(): number
  /** resolves after `ms`, rejects with the signal's reason when aborted */
  sleep(ms: number, options?: { signal?: AbortSignal }): Promise<void>
  /** an AbortSignal that fires after `ms` on this clock */
  timeout(ms: number): AbortSignal
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, options = {}) => {
    options.signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { clearTimeout(timer); reject(options.signal?.reason) }
      const timer = setTimeout(() => { options.signal?.removeEventListener('abort', onAbort); resolve() }, ms)
      options.signal?.addEventListener('abort', onAbort, { once: true })
    })
  },
  timeout: (ms) => AbortSignal.timeout(ms)
}

/** A seeded source of randomness, so that runs can be replayed. */
export interface Random {
  /** a float in [0, 1) */
  next(): number
  /** an integer in [0, n) */
  int(n: number): number
  /** `bytes` random bytes as lower-case hex */
  hex(bytes: number): string
}

/** mulberry32: small, fast and good enough for tie-breaking and ids that are not secrets */
export function seededRandom (seed: number): Random {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n) => Math.floor(next() * n),
    hex: (bytes) => {
      let out = ''
      for (let i = 0; i < bytes; i++) out += Math.floor(next() * 256).toString(16).padStart(2, '0')
      return out
    }
  }
}
