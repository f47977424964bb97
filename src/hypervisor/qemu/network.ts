import type { AbortOptions, NetworkAttachment } from '../index.js'
import type { VmTap } from '../net/index.js'
import { POOL_HUB, type NicBackend } from './args.js'
import { checkNicBackend } from './nic.js'
import type { QmpClient } from './qmp.js'

/** A clone's NIC on a domain's bridge: the tap the line made for it. */
export type QemuNic = VmTap

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
