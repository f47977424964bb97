import { access, constants } from 'node:fs/promises'
import type { AbortOptions, LineCapabilities, LineFingerprint } from '../index.js'
import { probeVersion } from '../fingerprint.js'
import type { UmlLineInit } from './init.js'

/**
 * the least `mem=` given to Debian's linux.uml 6.1 with the busybox guest: measured here, 32 MB
 * panics at boot and 34 MB boots; 40 leaves the guest about 12 MB free for its actions
 */
export const UML_MIN_MEMORY_MB = 40

/**
 * What the UML line makes: Linux guests (x86_64 user space) booted from a COW file, with a NIC
 * only when the plant gives a domain network (a tap on its bridge: `bridgeNic`), in processes of
 * their own that a restarted plant finds again. No host action: UML has no
 * hot-plug of a CD or a NIC here.
 */
export function umlCapabilities (): LineCapabilities {
  return { hostActions: [], networks: false, bridgeNic: true, guestNetwork: true, minMemoryMB: UML_MIN_MEMORY_MB, os: ['linux'], arch: ['x86_64'], liveReattach: true }
}

/** linux.uml's kernel version; unhealthy when it, mke2fs or the static busybox is missing. */
export async function umlFingerprint (init: UmlLineInit, options: AbortOptions = {}): Promise<LineFingerprint> {
  options.signal?.throwIfAborted()
  const uml = await probeVersion(init.umlBinary, ['--version'], 'user-mode-linux', options)
  const mke2fs = await probeVersion(init.mke2fsBinary, ['-V'], 'e2fsprogs', options)
  const problems: string[] = []
  if (!uml.found) problems.push(uml.detail)
  if (!mke2fs.found) problems.push(mke2fs.detail)
  try {
    await access(init.busyboxPath, constants.X_OK)
  } catch {
    problems.push(`${init.busyboxPath} is missing (Debian package busybox-static)`)
  }
  return {
    kind: 'uml',
    version: uml.found ? `linux.uml ${uml.version}` : 'missing',
    acceleration: 'uml',
    healthy: problems.length === 0,
    detail: problems.length === 0 ? 'user-mode Linux: guests are host processes, booted from COW files' : problems.join('; ')
  }
}
