/**
 * Links (bridges, taps) that tests make in the host's own namespace, named so that a later run
 * can remove what a crashed one left: `vt` + the owner's pid in base 36 (5 digits) + 1 random
 * digit, 8 characters, the longest prefix the host-network module takes.
 */
import { execFile } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { promisify } from 'node:util'
import { processAlive } from './processes.js'

const run = promisify(execFile)
const OWNED = /^vt([0-9a-z]{5})[0-9a-z]/

/** A link-name prefix for this process, fresh for each call. */
export function testLinkPrefix (): string {
  return `vt${process.pid.toString(36).padStart(5, '0')}${randomInt(36).toString(36)}`
}

export async function linkExists (name: string): Promise<boolean> {
  try {
    await run('ip', ['link', 'show', 'dev', name])
    return true
  } catch {
    return false
  }
}

/** Every link of the host's namespace whose name starts with `prefix`. */
export async function linksStartingWith (prefix: string): Promise<string[]> {
  const { stdout } = await run('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
  return stdout.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined && n.startsWith(prefix))
}

/** Deletes test links whose owner process is gone (a crashed run); returns their names. */
export async function sweepStaleLinks (): Promise<string[]> {
  const stale = (await linksStartingWith('vt')).filter((name) => {
    const owner = OWNED.exec(name)
    return owner !== null && !processAlive(parseInt(owner[1] as string, 36))
  })
  for (const name of stale) await run('ip', ['link', 'del', 'dev', name]).catch(() => {})
  return stale
}
