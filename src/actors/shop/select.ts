import type { Random } from '../runtime/index.js'

/** `d` of `items` drawn without replacement (a partial Fisher-Yates shuffle on the seeded source). */
export function chooseAtRandom<T> (items: T[], d: number, random: Random): T[] {
  const pool = [...items]
  const n = Math.min(d, pool.length)
  for (let i = 0; i < n; i++) {
    const j = i + random.int(pool.length - i)
    ;[pool[i], pool[j]] = [pool[j] as T, pool[i] as T]
  }
  return pool.slice(0, n)
}
