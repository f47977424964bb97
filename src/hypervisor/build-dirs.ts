import { readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AbortOptions } from './index.js'
import { isAlive, readPidFile } from './proc.js'

const OWNER = 'owner.pid'
/** a build folder without an owner file (killed before it was written) is abandoned after this long */
const ORPHAN_AGE_MS = 10 * 60_000

/** Marks a golden build folder as this process's, so that a line started after this process died knows it is abandoned. */
export async function claimBuildDir (dir: string): Promise<void> {
  await writeFile(join(dir, OWNER), `${process.pid}\n`)
}

/** Drops the mark before the folder is renamed into place as a finished golden. */
export async function releaseBuildDir (dir: string): Promise<void> {
  await rm(join(dir, OWNER), { force: true })
}

/**
 * Build folders under `parent` whose names start with `prefix` and whose owner process is gone: a
 * golden build of a plant that was killed. Folders of live builders (another line sharing the
 * golden folder) are left alone.
 */
export async function abandonedBuildDirs (parent: string, prefix: string, options: AbortOptions = {}): Promise<string[]> {
  options.signal?.throwIfAborted()
  let names: string[] = []
  try {
    names = await readdir(parent)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const out: string[] = []
  for (const name of names.filter((n) => n.startsWith(prefix))) {
    const dir = join(parent, name)
    const owner = readPidFile(join(dir, OWNER))
    if (owner !== undefined) {
      if (owner !== process.pid && !isAlive(owner)) out.push(dir)
      continue
    }
    const age = Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? Date.now())
    if (age > ORPHAN_AGE_MS) out.push(dir)
  }
  return out
}

