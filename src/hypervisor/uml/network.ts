import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AbortOptions, NetworkAttachment } from '../index.js'
import { createTap, deleteTap } from '../net/index.js'

/** The NIC of a UML clone: a tap on a domain's bridge, named in the VM's identity. */
export interface UmlNic { bridge: string, tap: string }

/**
 * written before the tap is made, so that whoever removes the folder (destroy, or a starting line
 * removing a clone that never completed) knows which tap to delete
 */
const NIC_FILE = 'nic.json'

/** the tap's name when the plant gives none: `vmu` + 12 hex digits of the VM's token */
export function defaultTap (token: string): string {
  return `vmu${token.slice(0, 12)}`
}

/** Makes the clone's tap on the bridge; a failure leaves no tap. */
export async function attachNic (dir: string, token: string, network: NetworkAttachment, options: AbortOptions = {}): Promise<UmlNic> {
  const nic: UmlNic = { bridge: network.bridge, tap: network.tap ?? defaultTap(token) }
  await writeFile(join(dir, NIC_FILE), JSON.stringify(nic), options.signal !== undefined ? { signal: options.signal } : {})
  await createTap(nic.tap, nic.bridge, options)
  return nic
}

/** Deletes the tap named in the VM's folder, if any; call it once no process of the VM holds the tap. */
export async function detachNic (dir: string): Promise<void> {
  let nic: UmlNic | undefined
  try {
    nic = JSON.parse(await readFile(join(dir, NIC_FILE), 'utf8'))
  } catch {
    return
  }
  if (typeof nic?.tap === 'string') await deleteTap(nic.tap)
  await rm(join(dir, NIC_FILE), { force: true })
}

/** linux.uml's argument for the NIC: the guest's eth0 on the tap. */
export function nicKernelArgs (nic: UmlNic | undefined): string[] {
  return nic === undefined ? [] : [`eth0=tuntap,${nic.tap}`]
}
