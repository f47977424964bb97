import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AbortOptions } from '../index.js'
import { exec } from '../guest/exec.js'
import { commandLines, parseStat } from '../proc.js'
import { UmlStopError } from './errors.js'

/** How often to look again for processes that should be gone; they are not our children, so nothing tells us. */
const POLL_MS = 20
const HALT_TIMEOUT_MS = 3_000
const REAP_WAIT_MS = 5_000

/**
 * Live UML processes by umid. linux.uml forks its helpers and the guest's process hosts without
 * exec, so every one of them carries the same command line, with `umid=<umid>`; one scan of
 * /proc serves any number of VMs. With `umlDir`, only those of one line (`uml_dir=<umlDir>`).
 */
export async function scanUml (options: AbortOptions & { umlDir?: string } = {}): Promise<Map<string, number[]>> {
  options.signal?.throwIfAborted()
  const byUmid = new Map<string, number[]>()
  for (const { pid, argv } of await commandLines()) {
    const umid = argv.find((arg) => arg.startsWith('umid='))?.slice('umid='.length)
    if (umid === undefined || !argv.some((arg) => arg.startsWith('ubd'))) continue
    if (options.umlDir !== undefined && !argv.includes(`uml_dir=${options.umlDir}`)) continue
    byUmid.set(umid, [...(byUmid.get(umid) ?? []), pid])
  }
  return byUmid
}

/** Pids of the live processes of one UML VM. */
export async function umlProcesses (umid: string, options: AbortOptions = {}): Promise<number[]> {
  return (await scanUml(options)).get(umid) ?? []
}

/**
 * Proportional set size of the VM's processes in KiB, where readable. linux.uml's own helpers
 * are clones that share its address space, and each of them reports that whole space: a rollup
 * read twice with the same text is counted once.
 */
export async function pssKB (pids: number[], options: AbortOptions = {}): Promise<number | undefined> {
  options.signal?.throwIfAborted()
  const rollups = new Set<string>()
  for (const pid of pids) {
    try {
      rollups.add(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'))
    } catch {
      // gone, or not ours to read
    }
  }
  let total = 0
  for (const rollup of rollups) total += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0)
  return rollups.size === 0 ? undefined : total
}

/** Asks the VM's kernel to halt through its management console; true when all its processes ended within `timeoutMs`. */
export async function haltVm (mconsoleBinary: string, socket: string, umid: string, timeoutMs: number, options: AbortOptions = {}): Promise<boolean> {
  options.signal?.throwIfAborted()
  try {
    await exec(mconsoleBinary, [socket, 'halt'], { signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(options.signal === undefined ? [] : [options.signal])]) })
  } catch {
    if (options.signal?.aborted === true) throw options.signal.reason
    return false
  }
  return await waitGone(umid, Date.now() + timeoutMs, options)
}

/**
 * Stops a VM and checks that nothing of it remains; throws UmlStopError otherwise. First a halt
 * through the management console, after which linux.uml reaps its own helpers; then, for what is
 * left (no console, a hung kernel), SIGKILL to the process group and to every process carrying the
 * umid. A VM already gone is not an error.
 */
export async function stopVm (mconsoleBinary: string, socket: string, umid: string, pgid: number | undefined, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  if (existsSync(socket) && (await umlProcesses(umid, options)).length > 0) await haltVm(mconsoleBinary, socket, umid, HALT_TIMEOUT_MS, options)
  await killVm(umid, pgid, options)
}

/**
 * Kills the VM's process group and every process carrying its umid, again at each look until none
 * is left (a VM killed while it boots may fork a helper between one look and the kill); throws
 * UmlStopError if one survives 5 s.
 */
export async function killVm (umid: string, pgid: number | undefined, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  const deadline = Date.now() + 5_000
  const seen = new Set<number>()
  let groupKilled = false
  for (;;) {
    const now = await umlProcesses(umid, options)
    if (now.length === 0) break
    // the recorded group only while a process of this VM leads or is in it: a pid of a VM long dead may be someone else's now
    if (!groupKilled && pgid !== undefined && pgid > 1 && (await Promise.all(now.map(async (pid) => await processGroup(pid, options)))).includes(pgid)) {
      groupKilled = true
      try {
        process.kill(-pgid, 'SIGKILL')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
      }
    }
    for (const pid of now) {
      seen.add(pid)
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
    if (Date.now() >= deadline) throw new UmlStopError(umid, now)
    await sleep(POLL_MS, undefined, options)
  }
  await waitReaped([...seen], pgid, Date.now() + REAP_WAIT_MS, options)
}

async function processGroup (pid: number, options: AbortOptions = {}): Promise<number | undefined> {
  options.signal?.throwIfAborted()
  try {
    return parseStat(await readFile(`/proc/${pid}/stat`, 'utf8')).pgrp
  } catch {
    return undefined
  }
}

async function waitGone (umid: string, deadline: number, options: AbortOptions = {}): Promise<boolean> {
  for (;;) {
    if ((await umlProcesses(umid, options)).length === 0) return true
    if (Date.now() >= deadline) return false
    await sleep(POLL_MS, undefined, options)
  }
}

/**
 * Helpers whose linux.uml parent was killed become zombies of PID 1, which may take a second or
 * two to reap them; until then `pgrep linux.uml` lists them. Dead already, so this only waits,
 * within a bound, for the listing to be true: for the pids seen alive, and for zombies still in
 * the VM's process group (those of a VM that died before we looked).
 */
async function waitReaped (pids: number[], pgid: number | undefined, deadline: number, options: AbortOptions = {}): Promise<void> {
  for (;;) {
    const zombies = pgid === undefined ? [] : await zombiesOfGroup(pgid, options)
    if (zombies.length === 0 && !pids.some((pid) => existsSync(`/proc/${pid}`))) return
    if (Date.now() >= deadline) return
    await sleep(POLL_MS * 5, undefined, options)
  }
}

async function zombiesOfGroup (pgid: number, options: AbortOptions = {}): Promise<number[]> {
  options.signal?.throwIfAborted()
  const found: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
    if (stat === '') continue
    const { comm, state, pgrp } = parseStat(stat)
    if (comm === 'linux.uml' && state === 'Z' && pgrp === pgid) found.push(Number(entry))
  }
  return found
}
