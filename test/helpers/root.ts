import test, { type ExecutionContext } from 'ava'

export const isRoot = process.getuid?.() === 0

/**
 * A serial test that needs root (network namespaces, bridges, dropping capabilities): skipped when
 * the suite runs as another user, and failed with the reason under CI, which runs as root.
 */
export function rootTest (title: string, body: (t: ExecutionContext) => Promise<void> | void, reason = 'network namespaces and bridges need root'): void {
  if (isRoot) test.serial(title, body)
  else if (process.env.CI !== undefined) test.serial(title, (t) => { t.fail(reason) })
  else test.serial.skip(title, body)
}
