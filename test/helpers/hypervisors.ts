import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { ProductionLine } from '../../src/hypervisor/index.js'
import { isAlive } from '../../src/hypervisor/proc.js'
import { simLine, type SimLineInit } from '../../src/hypervisor/sim/index.js'
import { qemuLine, type QemuLineInit } from '../../src/hypervisor/qemu/index.js'
import { umlLine, type UmlLineInit } from '../../src/hypervisor/uml/index.js'

export type LineKind = 'sim' | 'qemu' | 'uml'

/** A line of `kind` with these options, as a test or a child process of a test builds it. */
export function makeLine (kind: LineKind, init: Record<string, unknown>): ProductionLine {
  switch (kind) {
    case 'sim': return simLine(init as SimLineInit)
    case 'qemu': return qemuLine(init as Partial<QemuLineInit>)
    case 'uml': return umlLine(init as Partial<UmlLineInit>)
  }
}

/** true when `command` exists here, whatever it thinks of the arguments */
export function runs (command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' })
    return true
  } catch (err: any) {
    // present, but unhappy with the arguments
    return err?.code !== 'ENOENT'
  }
}

/** Why the line `kind` cannot run on this host, or undefined when it can. */
export function lineMissing (kind: LineKind): string | undefined {
  switch (kind) {
    case 'sim': return undefined
    case 'qemu':
      if (!runs('qemu-system-x86_64', ['--version'])) return 'qemu-system-x86_64 is not installed (Debian package qemu-system-x86)'
      if (!runs('qemu-img', ['--version'])) return 'qemu-img is not installed (Debian package qemu-utils)'
      return undefined
    case 'uml':
      if (!runs('linux.uml', ['--version'])) return 'linux.uml is not installed (Debian package user-mode-linux)'
      if (!runs('mke2fs', ['-V'])) return 'mke2fs is not installed (Debian package e2fsprogs)'
      if (!existsSync('/bin/busybox')) return '/bin/busybox is missing (Debian package busybox-static)'
      return undefined
  }
}

/** Every file and folder under `dir`, relative to it. */
export function tree (dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      const full = join(path, name)
      out.push(relative(dir, full))
      try {
        if (statSync(full).isDirectory()) walk(full)
      } catch {}
    }
  }
  walk(dir)
  return out.sort()
}

/** kills, by pid, every process whose command line names `text` (a test's own folder), and waits until they are gone */
export async function killMentioning (text: string): Promise<void> {
  const pids = pidsMentioning(text)
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
  const until = Date.now() + 10_000
  while (!pids.every(processGone) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
}

/** Resolves when `check` holds, polling every `everyMs`; false at the deadline. */
export async function until (check: () => boolean, deadlineMs: number, everyMs = 5): Promise<boolean> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    if (check()) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/** Pids of live processes whose command line mentions `needle` (QEMU names are cut to 15 characters, so -f). */
export function pidsMentioning (needle: string): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid).map(Number).filter((pid) => isAlive(pid, needle))
}

/** gone, or a zombie */
export function processGone (pid: number): boolean {
  return !isAlive(pid)
}

/** SIGKILLs each pid that is still alive. */
export function killAll (pids: Iterable<number>): void {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
}
