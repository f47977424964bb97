import { statfs } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join } from 'node:path'
import type { AbortOptions, LineProgress } from '../index.js'
import { defaultCacheDir, type GuestImageInit } from '../guest/index.js'
import { InvalidQemuLineInitError } from './errors.js'

export type AccelChoice = 'auto' | 'kvm' | 'tcg'

/** Options of the QEMU production line. */
export interface QemuLineInit {
  /** per-VM folders (overlay, sockets, pid and record); @default $XDG_STATE_HOME/vmplant/qemu, else ~/.local/state/vmplant/qemu */
  workDir: string
  /** golden images; must be on tmpfs, since clones map the golden RAM file; @default /dev/shm/vmplant/golden */
  goldenDir: string
  /** the built guest image and the acceleration probe's verdict; @default $VMPLANT_CACHE, else ~/.cache/vmplant */
  cacheDir: string
  /** @default 'qemu-system-x86_64' */
  qemuBinary: string
  /** @default 'qemu-img' */
  qemuImg: string
  /** 'auto' probes KVM with a short boot (cached) and falls back to TCG; @default 'auto' */
  accel: AccelChoice
  /** TCG translation cache per VM, MB; @default 64 */
  tbSizeMB: number
  /** disk of a golden image when the hardware names no size, MB; @default 64 */
  diskMB: number
  /** build goldens with a virtio-net NIC, which each clone keeps with a MAC of its own set at resume; @default true */
  nic: boolean
  /** how long a cold boot may take until the agent answers, ms; @default 60000 */
  bootTimeoutMs: number
  /** how long QMP and the incoming migration of a clone may take, ms; @default 15000 */
  cloneTimeoutMs: number
  /** how long the KVM probe boot may take before KVM is declared broken, ms; @default 8000 */
  probeTimeoutMs: number
  /** host memory a VM costs beyond its RAM (QEMU itself and the translation cache), MB; @default 64 */
  overheadMB: number
  /** warm pool: QEMU processes per golden kept loaded, warmed and paused, ready to be claimed by a clone; @default 0 */
  poolSize: number
  /** warm pool: QEMU processes starting at once while the pool fills, over all goldens; @default 2 */
  poolSpawns: number
  /**
   * warm pool: the most processes per golden it grows to while clones are claimed faster than a
   * refill takes (claims per second × refill time, within half the host's available memory);
   * @default poolSize (no growth)
   */
  poolMax: number
  /**
   * warm pool: the niceness a refill's QEMU runs at until claimed (then 0), where the line may
   * raise it again (root, CAP_SYS_NICE); 0: refills at normal priority. On a host shared with
   * other work, a niced refill starves and the pool runs dry (docs/benchmarks.md); @default 0
   */
  poolNiceness: number
  /** how the guest image is built (kernel package, modules) */
  image: Omit<GuestImageInit, 'cacheDir' | 'onProgress'>
  /** sees a golden build's steps (guest image download and build, boot, actions, checkpoint); absent: nobody watches */
  onProgress?: (event: LineProgress) => void
}

export const QEMU_LINE_DEFAULTS = {
  goldenDir: '/dev/shm/vmplant/golden',
  qemuBinary: 'qemu-system-x86_64',
  qemuImg: 'qemu-img',
  accel: 'auto',
  tbSizeMB: 64,
  diskMB: 64,
  nic: true,
  bootTimeoutMs: 60_000,
  cloneTimeoutMs: 15_000,
  probeTimeoutMs: 8_000,
  overheadMB: 64,
  poolSize: 0,
  poolSpawns: 2,
  poolNiceness: 0
} as const

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107
/** `<workDir>/vms/<12 hex>/agent.sock` */
const SOCKET_SUFFIX_LENGTH = '/vms/'.length + 12 + '/agent.sock'.length

export function defaultWorkDir (): string {
  const state = process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state')
  return join(state, 'vmplant', 'qemu')
}

/** Fills in the defaults and validates; throws InvalidQemuLineInitError naming the field. */
export function createQemuLineInit (partial: Partial<QemuLineInit> = {}): QemuLineInit {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<QemuLineInit>
  const init: QemuLineInit = {
    ...QEMU_LINE_DEFAULTS,
    workDir: defaultWorkDir(),
    cacheDir: defaultCacheDir(),
    image: {},
    poolMax: defined.poolSize ?? QEMU_LINE_DEFAULTS.poolSize,
    ...defined
  }
  validateQemuLineInit(init)
  return init
}

export function validateQemuLineInit (init: QemuLineInit): void {
  for (const key of ['workDir', 'goldenDir', 'cacheDir'] as const) {
    if (typeof init[key] !== 'string' || !isAbsolute(init[key])) throw new InvalidQemuLineInitError(key, `must be an absolute path, got ${JSON.stringify(init[key])}`)
  }
  if (init.workDir.length + SOCKET_SUFFIX_LENGTH > MAX_SOCKET_PATH) {
    throw new InvalidQemuLineInitError('workDir', `is too long for unix sockets inside it (at most ${MAX_SOCKET_PATH - SOCKET_SUFFIX_LENGTH} characters)`)
  }
  for (const key of ['qemuBinary', 'qemuImg'] as const) {
    if (typeof init[key] !== 'string' || init[key] === '') throw new InvalidQemuLineInitError(key, 'must be a command name or path')
  }
  if (!['auto', 'kvm', 'tcg'].includes(init.accel)) throw new InvalidQemuLineInitError('accel', `must be "auto", "kvm" or "tcg", got ${JSON.stringify(init.accel)}`)
  const ranges: Array<[keyof QemuLineInit, number, number]> = [
    ['tbSizeMB', 1, 4096], ['diskMB', 8, 1_048_576], ['bootTimeoutMs', 100, 3_600_000], ['cloneTimeoutMs', 100, 600_000],
    ['probeTimeoutMs', 100, 600_000], ['overheadMB', 0, 65_536], ['poolSize', 0, 64], ['poolSpawns', 1, 16], ['poolMax', 0, 256], ['poolNiceness', 0, 19]
  ]
  for (const [key, min, max] of ranges) {
    const value = init[key]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidQemuLineInitError(key, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
    }
  }
  if (init.poolMax < init.poolSize) throw new InvalidQemuLineInitError('poolMax', `must be at least poolSize (${init.poolSize}), got ${init.poolMax}`)
  if (typeof init.nic !== 'boolean') throw new InvalidQemuLineInitError('nic', 'must be true or false')
  if (typeof init.image !== 'object' || init.image === null) throw new InvalidQemuLineInitError('image', 'must be an object')
}

const TMPFS_MAGIC = 0x01021994

/** Clones map the golden RAM file; on a disk-backed folder that would page through the disk. */
export async function checkGoldenDirOnTmpfs (goldenDir: string, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  let dir = goldenDir
  for (;;) {
    try {
      const stats = await statfs(dir)
      if (stats.type !== TMPFS_MAGIC) throw new InvalidQemuLineInitError('goldenDir', `must be on tmpfs (such as /dev/shm), ${goldenDir} is not`)
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dir === dirname(dir)) throw err
      dir = dirname(dir)
    }
  }
}
