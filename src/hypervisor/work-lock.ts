import { rmSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { AbortOptions } from './index.js'
import { ProductionError } from './errors.js'
import { isAlive, readPidFile } from './proc.js'

const heldInThisProcess = new Set<string>()

/**
 * One started line per work folder. A line removes what it finds half-made in its folder (a clone
 * that a killed plant left), so a second line over the same folder, in this process or another
 * live one, would destroy the first one's clones in progress. A lock left by a dead process is
 * taken over.
 */
export async function acquireWorkDirLock (workDir: string, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  await mkdir(workDir, { recursive: true })
  const path = join(workDir, 'line.lock')
  if (heldInThisProcess.has(workDir)) throw new ProductionError(`work folder ${workDir} is used by another started line in this process`)
  const pid = readPidFile(path)
  if (pid !== undefined && pid !== process.pid && isAlive(pid)) throw new ProductionError(`work folder ${workDir} is used by the running process ${pid}`)
  writeFileSync(path, `${process.pid}\n`)
  heldInThisProcess.add(workDir)
}

export function releaseWorkDirLock (workDir: string): void {
  if (!heldInThisProcess.delete(workDir)) return
  rmSync(join(workDir, 'line.lock'), { force: true })
}
