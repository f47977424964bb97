import { access, constants } from 'node:fs/promises'
import type { AbortOptions, LineCapabilities, LineFingerprint } from '../index.js'
import { probeVersion } from '../fingerprint.js'
import { cachedGuestImage } from '../guest/index.js'
import { cachedAccel } from './accel.js'
import { checkGoldenDirOnTmpfs, type QemuLineInit } from './init.js'

/** below this the Debian cloud kernel and its initramfs do not boot (seen here: 64 MB hangs) */
export const MIN_MEMORY_MB = 128

/**
 * What the QEMU line makes: x86_64 Linux guests from the built guest image, each clone with the
 * golden's NIC and a MAC of its own when `nic` is on (on a tap on the domain's bridge when the
 * plant gives a `network`, else user-mode), and VMs in processes of their own that a restarted
 * plant re-attaches. No host action yet: the machine model has no hot-pluggable CD drive.
 */
export function qemuCapabilities (init: Pick<QemuLineInit, 'nic'>): LineCapabilities {
  return { hostActions: [], networks: init.nic, bridgeNic: init.nic, guestNetwork: init.nic, minMemoryMB: MIN_MEMORY_MB, os: ['linux'], arch: ['x86_64'], liveReattach: true, goldenImport: true }
}

/**
 * QEMU's and qemu-img's versions, and the acceleration: the one the line chose (at its first
 * golden build, or an earlier line's probe on this host boot, which is cached), else what
 * `accel` and /dev/kvm allow. Never boots a probe itself.
 */
export async function qemuFingerprint (init: QemuLineInit, chosen: 'kvm' | 'tcg' | undefined, options: AbortOptions = {}): Promise<LineFingerprint> {
  options.signal?.throwIfAborted()
  const qemu = await probeVersion(init.qemuBinary, ['--version'], 'qemu-system-x86', options)
  const img = await probeVersion(init.qemuImg, ['--version'], 'qemu-utils', options)
  let acceleration: string = chosen ?? init.accel
  let detail = chosen !== undefined ? `chosen at the first golden build (accel ${init.accel})` : `accel ${init.accel}`
  if (chosen === undefined && init.accel === 'auto') {
    try {
      await access('/dev/kvm', constants.R_OK | constants.W_OK)
      const image = await cachedGuestImage({ ...init.image, cacheDir: init.cacheDir }, options)
      const probed = image === undefined ? undefined : await cachedAccel(init, image, options)
      if (probed !== undefined) {
        acceleration = probed
        detail = `a probe boot under KVM on this host boot chose ${probed}`
      } else {
        detail = '/dev/kvm is usable: the first golden build boots a probe guest under KVM, and falls back to TCG if it hangs'
      }
    } catch {
      acceleration = 'tcg'
      detail = 'no usable /dev/kvm: TCG'
    }
  }
  const problems: string[] = []
  if (!qemu.found) problems.push(qemu.detail)
  if (!img.found) problems.push(img.detail)
  try {
    await checkGoldenDirOnTmpfs(init.goldenDir, options)
  } catch (err) {
    options.signal?.throwIfAborted()
    problems.push((err as Error).message)
  }
  return {
    kind: 'qemu',
    version: qemu.found ? qemu.version : 'missing',
    acceleration,
    healthy: problems.length === 0,
    detail: problems.length === 0 ? detail : problems.join('; ')
  }
}
