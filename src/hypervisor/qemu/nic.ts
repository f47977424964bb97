import type { AbortOptions } from '../index.js'
import { QmpCommandError } from './errors.js'
import type { QmpClient } from './qmp.js'

/**
 * A user-mode NIC with the clone's own MAC, hot-plugged while the clone is paused: the golden has
 * none, so no two clones share a MAC. The guest sees it (ACPI PCI hotplug) once it runs.
 */
export async function addNic (qmp: QmpClient, mac: string, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  try {
    await qmp.execute('netdev_add', { type: 'user', id: 'net0' }, options)
    await qmp.execute('device_add', { driver: 'virtio-net-pci', id: 'nic0', netdev: 'net0', mac }, options)
  } catch (err) {
    // a resume retried after the NIC went in
    if (!(err instanceof QmpCommandError && /already|duplicate/i.test(err.message))) throw err
  }
}

/** A guest command that waits (up to 5 s) until the hot-plugged NIC shows up. */
export const WAIT_FOR_NIC = 'i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 500 ]; do usleep 10000; i=$((i + 1)); done; [ -e /sys/class/net/eth0 ]'
