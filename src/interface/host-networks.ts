import type { AbortOptions } from './abort.js'

/** Whether this host lets the plant make domain networks, found once at start. */
export interface HostNetworkProbe {
  available: boolean
  /** why not (e.g. "no CAP_NET_ADMIN: ..."), or what is used */
  detail: string
}

/**
 * A domain's host-only network on a plant as the host sees it: one Linux bridge per network
 * index, with no address of the host's on it, so only the VMs attached to it talk to each other.
 * The plant decides when a bridge is needed and when it goes; this port does the host's side.
 */
export interface HostNetworks {
  /** tries once to create and delete a bridge */
  probe(options?: AbortOptions): Promise<HostNetworkProbe>
  /** the bridge of network `index` (at most 15 characters) */
  bridgeName(index: number): string
  /** the tap a VM's NIC uses on its bridge: unique on the host, at most 15 characters */
  tapName(vmid: string): string
  /** makes the bridge of network `index`, up and without an address; an existing one is kept */
  ensure(index: number, options?: AbortOptions): Promise<string>
  /** removes the bridge of network `index`; a missing one is no error */
  remove(index: number, options?: AbortOptions): Promise<void>
  /** the bridges of this plant (its name prefix) that exist now, by index */
  list(options?: AbortOptions): Promise<number[]>
}

/** Where a clone's NIC goes: a tap on a domain's bridge. */
export interface NetworkAttachment {
  bridge: string
  /** the tap's name; absent: the line names it */
  tap?: string
}
