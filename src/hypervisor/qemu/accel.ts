import { createHash, randomBytes } from 'node:crypto'
import { constants, readFileSync, statSync } from 'node:fs'
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { readJsonFile, writeFileDurably } from '../../fs/index.js'
import type { GuestImage } from '../guest/index.js'
import type { AbortOptions } from '../index.js'
import { kernelAppend } from './args.js'
import { coldBoot } from './boot.js'
import { killAndWait } from './process.js'
import type { AccelChoice } from './init.js'

const log = logger('vmplant:plant:qemu:accel')

export interface AccelProbeInit {
  accel: AccelChoice
  qemuBinary: string
  cacheDir: string
  probeTimeoutMs: number
  tbSizeMB: number
}

/**
 * KVM when a guest really boots under it, else TCG. On some hosts /dev/kvm opens but the guest
 * hangs after the kernel starts, so the device's presence proves nothing: a short boot decides,
 * and the verdict is cached per QEMU binary, guest kernel and host boot.
 */
export async function resolveAccel (init: AccelProbeInit, image: GuestImage, options: AbortOptions = {}): Promise<'kvm' | 'tcg'> {
  options.signal?.throwIfAborted()
  if (init.accel !== 'auto') return init.accel
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK)
  } catch {
    return 'tcg'
  }
  return await probeOrRecall(init, image, options)
}

/**
 * The cached verdict for this binary, image and host boot, else a probe boot's, then cached. The
 * cache folder is shared by every line on the host: a cache file that does not parse is taken as
 * none (probed again and written whole), and it is replaced in one rename, so a line starting
 * beside another never reads half of it.
 */
export async function probeOrRecall (init: AccelProbeInit, image: GuestImage, options: AbortOptions = {}): Promise<'kvm' | 'tcg'> {
  const key = probeKey(init.qemuBinary, image)
  const cache = await readCache(init.cacheDir, options)
  const known = cache[key]
  if (known !== undefined) return known
  const verdict = await probeKvm(init, image, options) ? 'kvm' : 'tcg'
  log('KVM probe boot: using %s', verdict)
  await mkdir(init.cacheDir, { recursive: true })
  // read again: another line may have cached a verdict of its own during the probe boot
  const now = await readCache(init.cacheDir, options)
  await writeFileDurably(join(init.cacheDir, CACHE_FILE), JSON.stringify({ ...now, [key]: verdict }, null, 2) + '\n', options)
  return verdict
}

/** The verdict of an earlier probe for this binary, image and host boot, or undefined when there was none. */
export async function cachedAccel (init: AccelProbeInit, image: GuestImage, options: AbortOptions = {}): Promise<'kvm' | 'tcg' | undefined> {
  options.signal?.throwIfAborted()
  return (await readCache(init.cacheDir, options))[probeKey(init.qemuBinary, image)]
}

const CACHE_FILE = 'accel.json'

/** The cached verdicts, by probe key; none when the file is absent, damaged or not a map of verdicts. */
async function readCache (cacheDir: string, options: AbortOptions): Promise<Record<string, 'kvm' | 'tcg'>> {
  let value: unknown
  try {
    value = await readJsonFile(join(cacheDir, CACHE_FILE), { corrupt: 'absent', ...options })
  } catch (err: unknown) {
    options.signal?.throwIfAborted()
    log('cannot read the accelerator cache in %s: %e', cacheDir, err)
    return {}
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, 'kvm' | 'tcg'] => entry[1] === 'kvm' || entry[1] === 'tcg'))
}

function probeKey (binary: string, image: GuestImage): string {
  let bootId = ''
  let binaryStamp = binary
  try { bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() } catch {}
  try { binaryStamp += String(statSync(binary).mtimeMs) } catch {}
  return createHash('sha256').update(`${binaryStamp}\n${image.id}\n${bootId}`).digest('hex').slice(0, 16)
}

async function probeKvm (init: AccelProbeInit, image: GuestImage, options: AbortOptions): Promise<boolean> {
  await mkdir(init.cacheDir, { recursive: true })
  const dir = await mkdtemp(join(init.cacheDir, 'kvm-probe-'))
  const token = randomBytes(6).toString('hex')
  try {
    const booted = await coldBoot(init.qemuBinary, {
      memoryMB: 128,
      accel: 'kvm',
      tbSizeMB: init.tbSizeMB,
      kernel: image.kernel,
      initrd: image.initrd,
      append: kernelAppend(false),
      console: join(dir, 'console.log'),
      agentSocket: join(dir, 'agent.sock'),
      qmpSocket: join(dir, 'qmp.sock'),
      pidFile: join(dir, 'qemu.pid'),
      token,
      incoming: false
    }, join(dir, 'qemu.log'), { signal: options.signal, timeoutMs: init.probeTimeoutMs })
    booted.agent.close()
    booted.qmp.close()
    await killAndWait(booted.pid, token)
    return true
  } catch (err) {
    options.signal?.throwIfAborted()
    log('KVM probe failed: %e', err)
    return false
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
