import { rm } from 'node:fs/promises'
import { detachVmTap } from '../net/index.js'
import { isAlive, readPidFile } from '../proc.js'
import { killAndWait } from './process.js'
import { scanProcesses, vmPaths } from './vm-store.js'

/**
 * Kills every QEMU process of the token (the recorded pid, and those `found` in /proc), deletes
 * the tap its folder names, then removes the folder. A folder has one QEMU: /proc is scanned only
 * when the caller found none and the recorded pid does not run (its pid file was never written).
 */
export async function removeVmFolder (workDir: string, token: string, pid: number | undefined, found?: number[]): Promise<void> {
  const paths = vmPaths(workDir, token)
  const recorded = pid ?? readPidFile(paths.pidFile)
  const scan = found === undefined && (recorded === undefined || !isAlive(recorded, token))
  const pids = new Set(scan ? (await scanProcesses(workDir)).get(token) ?? [] : found ?? [])
  if (recorded !== undefined) pids.add(recorded)
  for (const each of pids) await killAndWait(each, token)
  // once no QEMU holds it; a tap that cannot be deleted keeps the folder, so a later removal tries again
  await detachVmTap(paths.dir)
  await rm(paths.dir, { recursive: true, force: true })
}
