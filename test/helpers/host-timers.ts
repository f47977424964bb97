/** counts every host timer the code under test asks for while `work` runs */
export async function withoutHostTimers<T> (work: () => Promise<T>): Promise<{ value: T, timers: string[] }> {
  const timers: string[] = []
  const saved = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval, timeout: AbortSignal.timeout }
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => { timers.push(`setTimeout(${String(args[1])})`); return saved.setTimeout(...args) }) as typeof setTimeout
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => { timers.push(`setInterval(${String(args[1])})`); return saved.setInterval(...args) }) as typeof setInterval
  AbortSignal.timeout = (ms: number) => { timers.push(`AbortSignal.timeout(${ms})`); return saved.timeout.call(AbortSignal, ms) }
  try {
    return { value: await work(), timers }
  } finally {
    globalThis.setTimeout = saved.setTimeout
    globalThis.setInterval = saved.setInterval
    AbortSignal.timeout = saved.timeout
  }
}
