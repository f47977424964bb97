import { createHash } from 'node:crypto'
import { ProductionError } from '../index.js'
import { macAddress, type NicBackend } from './args.js'

export type { NicBackend } from './args.js'

/** The guest's name for the golden's one NIC. */
export const GUEST_NIC = 'eth0'

/** The clone's NIC backend when the caller names none. */
export const DEFAULT_NIC_BACKEND: NicBackend = { type: 'user' }

/**
 * The golden's NIC MAC, from its id. Every clone starts with it (the device's state migrates)
 * and gets its own as the first step after resume, before any action runs.
 */
export function goldenMac (goldenId: string): string {
  return macAddress(createHash('sha256').update(`vmplant golden nic ${goldenId}`).digest())
}

/** Checks a backend given to `clone`; throws ProductionError naming what is wrong. */
export function checkNicBackend (backend: unknown): NicBackend {
  const b = backend as Partial<{ type: string, ifname: unknown }> | undefined
  if (b === null || typeof b !== 'object') throw new ProductionError(`the NIC backend must be { type: 'user' } or { type: 'tap', ifname }, got ${JSON.stringify(backend)}`)
  if (b.type === 'user') return { type: 'user' }
  if (b.type === 'tap') {
    // IFNAMSIZ is 16 with its NUL; a comma would end QEMU's option
    if (typeof b.ifname !== 'string' || !/^[A-Za-z0-9_.-]{1,15}$/.test(b.ifname)) throw new ProductionError(`the tap NIC backend's ifname must be 1 to 15 letters, digits, "_", "." or "-", got ${JSON.stringify(b.ifname)}`)
    return { type: 'tap', ifname: b.ifname }
  }
  throw new ProductionError(`unknown NIC backend type ${JSON.stringify(b.type)} (use 'user' or 'tap')`)
}
