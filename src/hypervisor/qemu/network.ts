import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AbortOptions, NetworkAttachment } from '../index.js'
import { createTap, deleteTap } from '../net/index.js'
import { POOL_HUB, type NicBackend } from './args.js'
import { checkNicBackend } from './nic.js'
import type { QmpClient } from './qmp.js'

/** A clone's NIC on a domain's bridge: the tap the line made for it. */
export interface QemuNic { bridge: string, tap: string }

/**
 * written into the VM's folder before the tap is made, so that whoever removes the folder
 * (destroy, a failed clone, a starting line removing a clone that never completed) deletes the tap
 */
const NIC_FILE = 'nic.json'

/** the tap's name when the plant gives none: `vmq` + the VM folder's 12 hex digits (15 characters) */
export function defaultTap (token: string): string {
  return `vmq${token}`
}

/** The clone's tap for `network`, named and checked; nothing is made yet. */
export function nicFor (token: string, network: NetworkAttachment): QemuNic {
  const tap = network.tap ?? defaultTap(token)
  checkNicBackend({ type: 'tap', ifname: tap })
  return { bridge: network.bridge, tap }
}

/** Records the tap in the folder, then makes it on the bridge; a failure leaves no tap. */
export async function attachTap (dir: string, nic: QemuNic, options: AbortOptions = {}): Promise<void> {
  await writeFile(join(dir, NIC_FILE), JSON.stringify(nic), options.signal !== undefined ? { signal: options.signal } : {})
  await createTap(nic.tap, nic.bridge, options)
}

/** Deletes the tap the folder names, if any; call it once no QEMU of the folder holds the tap. */
export async function detachTap (dir: string): Promise<void> {
  let nic: Partial<QemuNic> | undefined
  try {
    nic = JSON.parse(await readFile(join(dir, NIC_FILE), 'utf8'))
  } catch {
    return
  }
  if (typeof nic?.tap === 'string') await deleteTap(nic.tap)
  await rm(join(dir, NIC_FILE), { force: true })
}

/**
 * Gives a pooled process's NIC (a port on hub 0, nothing else on the hub) the clone's backend:
 * the backend is added and joined to the hub by a second port, so the NIC device, its state
 * and the guest are untouched. QEMU runs no script for a tap; the host made it.
 */
export async function plugBackend (qmp: QmpClient, backend: NicBackend, options: AbortOptions = {}): Promise<void> {
  const args: Record<string, unknown> = backend.type === 'tap'
    ? { type: 'tap', id: 'net1', ifname: backend.ifname, script: 'no', downscript: 'no' }
    : { type: 'user', id: 'net1' }
  await qmp.execute('netdev_add', args, options)
  await qmp.execute('netdev_add', { type: 'hubport', id: 'hub1', hubid: POOL_HUB, netdev: 'net1' }, options)
}
