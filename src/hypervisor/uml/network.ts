import type { AbortOptions, NetworkAttachment } from '../index.js'
import { attachVmTap, type VmTap } from '../net/index.js'

/** The NIC of a UML clone: a tap on a domain's bridge, named in the VM's identity. */
export type UmlNic = VmTap

/** the tap's name when the plant gives none: `vmu` + 12 hex digits of the VM's token */
export function defaultTap (token: string): string {
  return `vmu${token.slice(0, 12)}`
}

/** Makes the clone's tap on the bridge; a failure leaves no tap. */
export async function attachNic (dir: string, token: string, network: NetworkAttachment, options: AbortOptions = {}): Promise<UmlNic> {
  const nic: UmlNic = { bridge: network.bridge, tap: network.tap ?? defaultTap(token) }
  await attachVmTap(dir, nic, options)
  return nic
}

/** linux.uml's argument for the NIC: the guest's eth0 on the tap. */
export function nicKernelArgs (nic: UmlNic | undefined): string[] {
  return nic === undefined ? [] : [`eth0=tuntap,${nic.tap}`]
}
