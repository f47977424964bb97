import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { logger } from '@libp2p/logger'
import { writeFileDurably } from '../../fs/index.js'
import type { AbortOptions } from '../index.js'
import type { GuestAgentClient } from '../guest/agent-client.js'
import { openPtsAgent, waitForAgent } from './agent.js'
import { UmlBootError } from './errors.js'
import { killVm } from './process.js'

const log = logger('vmplant:plant:uml:boot')

/** How often the console log is read for the pts linux.uml assigned (it says so nowhere else). */
const LOG_POLL_MS = 20
/** in the work folder */
export const LPJ_FILE = 'lpj'
const PTS_LINE = /Serial line 0 assigned device '(\/dev\/pts\/\d+)'/g

export interface UmlBootSpec {
  binary: string
  umid: string
  umlDir: string
  /** the root file system, or the COW file over `base` */
  disk: string
  base?: string
  memoryMB: number
  /** written from scratch at each boot */
  consoleLog: string
  /** the guest's hostname */
  hostname: string
  timeoutMs: number
  /** more kernel arguments (UmlLineInit.kernelArgs) */
  kernelArgs: string[]
  /**
   * where the host's loops-per-jiffy is kept: the first boot measures it (about 170 ms), later
   * ones are given it with `lpj=`. Only udelay() in the guest depends on it.
   */
  lpjFile: string
}

export interface BootedUml {
  pid: number
  pts: string
  agent: GuestAgentClient
}

/** linux.uml's command line: the COW root, the kernel console to a log, the agent line on a pts, no NIC. */
export function umlArgs (spec: UmlBootSpec, lpj?: number): string[] {
  return [
    `mem=${spec.memoryMB}M`,
    `ubd0=${spec.base === undefined ? spec.disk : `${spec.disk},${spec.base}`}`,
    'root=/dev/ubda', 'rw', 'init=/init',
    'con=null', 'con0=null,fd:1',
    'ssl=null', 'ssl0=pts',
    `umid=${spec.umid}`, `uml_dir=${spec.umlDir}`,
    `vmplant.host=${spec.hostname}`,
    ...(lpj === undefined ? [] : [`lpj=${lpj}`]),
    ...spec.kernelArgs
  ]
}

/**
 * Boots linux.uml in a session (and process group) of its own, so that it outlives the plant and
 * can be killed as a group, and waits until the guest agent answers. `onSpawn` runs as soon as the
 * pid is known (to record it). On any failure every process of the VM is killed before this throws.
 */
export async function bootUml (spec: UmlBootSpec, onSpawn: (pid: number) => Promise<void>, options: AbortOptions = {}): Promise<BootedUml> {
  options.signal?.throwIfAborted()
  const started = Date.now()
  const deadline = started + spec.timeoutMs
  await mkdir(spec.umlDir, { recursive: true })
  const lpj = await readLpj(spec.lpjFile, options)
  const out = openSync(spec.consoleLog, 'w')
  let exited: string | undefined
  let pid: number | undefined
  let agent: GuestAgentClient | undefined
  try {
    const child = spawn(spec.binary, umlArgs(spec, lpj), { detached: true, stdio: ['ignore', out, out] })
    child.unref()
    pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => { resolve(child.pid ?? -1) })
      child.once('error', reject)
    })
    child.on('error', () => {})
    child.once('exit', (code, signal) => { exited = `linux.uml exited (${signal ?? `code ${code ?? '?'}`}) during boot` })
    await onSpawn(pid)
    const pts = await waitForPts(spec.consoleLog, deadline, () => exited, options)
    agent = await openPtsAgent(pts, options)
    await waitForAgent(agent, deadline, () => exited, options)
    child.removeAllListeners('exit')
    if (lpj === undefined) await rememberLpj(spec.consoleLog, spec.lpjFile, options)
    log('booted %s (pid %d, agent on %s) in %d ms', spec.umid, pid, pts, Date.now() - started)
    return { pid, pts, agent }
  } catch (err) {
    agent?.close()
    await killVm(spec.umid, pid, {})
    if (options.signal?.aborted === true) throw options.signal.reason
    const tail = await readFile(spec.consoleLog, 'utf8').catch(() => '')
    throw new UmlBootError(`UML VM ${spec.umid} did not boot: ${(err as Error).message}`, tail.trim().split('\n').slice(-20).join('\n'), { cause: err })
  } finally {
    closeSync(out)
  }
}

async function waitForPts (consoleLog: string, deadline: number, exited: () => string | undefined, options: AbortOptions = {}): Promise<string> {
  for (;;) {
    // the last one: linux.uml assigns a pts each time the guest opens the line afresh
    const matches = [...(await readFile(consoleLog, 'utf8')).matchAll(PTS_LINE)]
    const pts = matches.at(-1)?.[1]
    if (pts !== undefined) return pts
    const gone = exited()
    if (gone !== undefined) throw new Error(gone)
    if (Date.now() >= deadline) throw new Error('linux.uml assigned no pts to the agent line before the deadline')
    await sleep(LOG_POLL_MS, undefined, options)
  }
}

async function readLpj (file: string, options: AbortOptions = {}): Promise<number | undefined> {
  options.signal?.throwIfAborted()
  const value = Number((await readFile(file, 'utf8').catch(() => '')).trim())
  return Number.isSafeInteger(value) && value > 0 ? value : undefined
}

/** Keeps the value the kernel measured ("Calibrating delay loop... 3851.87 BogoMIPS (lpj=19259392)"). */
async function rememberLpj (consoleLog: string, file: string, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  const measured = /Calibrating delay loop\.\.\. .*\(lpj=(\d+)\)/.exec(await readFile(consoleLog, 'utf8'))?.[1]
  if (measured === undefined) return
  await writeFileDurably(file, `${measured}\n`, options)
}
