import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { InvalidUmlLineInitError } from './errors.js'

/** Options of the user-mode Linux production line. */
export interface UmlLineInit {
  /** per-VM folders (COW file, console log, state) and UML's own umid folders; @default $XDG_STATE_HOME/vmplant/uml, else ~/.local/state/vmplant/uml */
  workDir: string
  /** base root file systems and golden images; @default $VMPLANT_CACHE/uml-golden, else ~/.cache/vmplant/uml-golden */
  goldenDir: string
  /** the UML kernel; @default 'linux.uml' */
  umlBinary: string
  /** halts a VM through its management console (Debian's uml-utilities); without it VMs are killed, which is slower to clean up; @default 'uml_mconsole' */
  mconsoleBinary: string
  /** builds the ext4 root file system from a folder tree; @default 'mke2fs' */
  mke2fsBinary: string
  /** a statically linked busybox, copied into the root file system; @default '/bin/busybox' (Debian's busybox-static) */
  busyboxPath: string
  /** size of the root file system when the hardware names no disk, MB; @default 64 */
  diskMB: number
  /** host memory a VM costs beyond its `mem=` (the UML kernel's host processes and page tables), MB; @default 24 */
  overheadMB: number
  /** how long a boot may take until the guest agent answers, ms; @default 30000 */
  bootTimeoutMs: number
  /**
   * added to every linux.uml command line. The defaults cut a boot from about 1.8 s to 0.4 s here:
   * Debian's UML kernel makes 256 legacy BSD ptys at boot (Unix98 ptys stay) and benchmarks
   * RAID6 and XOR code that only md and btrfs RAID use.
   * @default ['pty.legacy_count=0', 'initcall_blacklist=raid6_select_algo,calibrate_xor_blocks']
   */
  kernelArgs: string[]
}

export const UML_LINE_DEFAULTS = {
  umlBinary: 'linux.uml',
  mconsoleBinary: 'uml_mconsole',
  mke2fsBinary: 'mke2fs',
  busyboxPath: '/bin/busybox',
  diskMB: 64,
  overheadMB: 24,
  bootTimeoutMs: 30_000,
  kernelArgs: ['pty.legacy_count=0', 'initcall_blacklist=raid6_select_algo,calibrate_xor_blocks']
} as const

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107
/** `<workDir>/run/vmplant-<16 hex>/mconsole`, the management socket linux.uml makes */
const SOCKET_SUFFIX_LENGTH = '/run/vmplant-'.length + 16 + '/mconsole'.length

export function defaultUmlWorkDir (): string {
  const state = process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state')
  return join(state, 'vmplant', 'uml')
}

export function defaultUmlGoldenDir (): string {
  return join(process.env.VMPLANT_CACHE ?? join(homedir(), '.cache', 'vmplant'), 'uml-golden')
}

/** Fills in the defaults and validates; throws InvalidUmlLineInitError naming the field. */
export function createUmlLineInit (partial: Partial<UmlLineInit> = {}): UmlLineInit {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<UmlLineInit>
  const init: UmlLineInit = {
    ...UML_LINE_DEFAULTS,
    kernelArgs: [...UML_LINE_DEFAULTS.kernelArgs],
    workDir: defaultUmlWorkDir(),
    goldenDir: defaultUmlGoldenDir(),
    ...defined
  }
  validateUmlLineInit(init)
  return init
}

export function validateUmlLineInit (init: UmlLineInit): void {
  for (const key of ['workDir', 'goldenDir', 'busyboxPath'] as const) {
    if (typeof init[key] !== 'string' || !isAbsolute(init[key])) throw new InvalidUmlLineInitError(key, `must be an absolute path, got ${JSON.stringify(init[key])}`)
  }
  if (init.workDir.length + SOCKET_SUFFIX_LENGTH > MAX_SOCKET_PATH) {
    throw new InvalidUmlLineInitError('workDir', `is too long for the management sockets inside it (at most ${MAX_SOCKET_PATH - SOCKET_SUFFIX_LENGTH} characters)`)
  }
  for (const key of ['umlBinary', 'mconsoleBinary', 'mke2fsBinary'] as const) {
    if (typeof init[key] !== 'string' || init[key] === '') throw new InvalidUmlLineInitError(key, 'must be a command name or path')
  }
  if (!Array.isArray(init.kernelArgs) || init.kernelArgs.some((arg) => typeof arg !== 'string' || arg === '' || /\s/.test(arg))) {
    throw new InvalidUmlLineInitError('kernelArgs', 'must be a list of non-empty arguments without spaces')
  }
  const ranges: Array<[keyof UmlLineInit, number, number]> = [
    ['diskMB', 16, 1_048_576], ['overheadMB', 0, 65_536], ['bootTimeoutMs', 100, 3_600_000]
  ]
  for (const [key, min, max] of ranges) {
    const value = init[key]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidUmlLineInitError(key, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
    }
  }
}
