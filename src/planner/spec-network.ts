/** The network part of a VM spec: a static address on the domain's subnet, or DHCP; and its checks. */
import { InvalidSpecError } from './errors.js'

/** The guest's address on its domain's network, as the spec asks for it. */
export interface StaticNetwork {
  /** dotted quad and prefix length, e.g. "192.168.77.10/24" */
  address: string
  gateway?: string
}
/** The guest asks the client LAN's DHCP server for its address (through the domain's tunnel). */
export interface DhcpNetwork {
  dhcp: true
  /** how long the guest waits for a lease; @default 30000 (`DHCP_LEASE_TIMEOUT_MS`) */
  leaseTimeoutMs: number
}
/** @default the wait for a lease when the spec names none: a few DHCP rounds, and a tunnel that is still connecting */
export const DHCP_LEASE_TIMEOUT_MS = 30_000
/** What a validated spec's `network` is: a static address, or DHCP (see `checkNetwork`). */
export type NetworkSpec = StaticNetwork | DhcpNetwork

/** True when the spec's network asks for DHCP rather than a static address. */
export function isDhcp (network: NetworkSpec): network is DhcpNetwork {
  return 'dhcp' in network && network.dhcp
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** An IPv4 address as a 32-bit number; undefined when it is not a dotted quad of octets. */
function ipv4 (text: string): number | undefined {
  const m = IPV4.exec(text)
  if (m === null) return undefined
  const octets = m.slice(1).map(Number)
  // a leading zero reads as octal to some tools: refused rather than guessed
  if (octets.some((o, i) => o > 255 || ((m[i + 1] as string).length > 1 && (m[i + 1] as string).startsWith('0')))) return undefined
  return octets.reduce((n, o) => n * 256 + o, 0)
}

/**
 * A static address must be a usable host address of its subnet (not the network or broadcast
 * address, not loopback, multicast or 0.0.0.0/8), and the gateway another host of the same subnet.
 * DHCP excludes both (the server gives the address and the route), and a lease timeout goes only
 * with DHCP.
 */
export function checkNetwork (input: { address?: string, gateway?: string, dhcp?: boolean, leaseTimeoutMs?: number }): asserts input is NetworkSpec {
  if (input.dhcp === true && (input.address !== undefined || input.gateway !== undefined)) throw new InvalidSpecError('network.dhcp', 'asks for DHCP, but network.address or network.gateway is set too; use one or the other')
  if (input.dhcp !== true && input.leaseTimeoutMs !== undefined) throw new InvalidSpecError('network.leaseTimeoutMs', 'is a wait for a DHCP lease: it needs network.dhcp: true')
  if (input.dhcp === true) {
    input.leaseTimeoutMs ??= DHCP_LEASE_TIMEOUT_MS
    return
  }
  if (input.address === undefined) throw new InvalidSpecError('network.address', input.dhcp === false ? 'is needed when network.dhcp is false' : 'is needed: the VM\'s address and prefix, such as "192.168.77.10/24" (or network.dhcp: true)')
  // `dhcp: false` says no more than its absence
  delete input.dhcp
  const network = input as StaticNetwork
  const [host, prefixText, ...rest] = network.address.split('/')
  const example = 'must be an IPv4 address with its prefix length, such as "192.168.77.10/24"'
  if (prefixText === undefined || rest.length > 0 || !/^\d{1,2}$/.test(prefixText)) throw new InvalidSpecError('network.address', example)
  const prefix = Number(prefixText)
  const address = ipv4(host as string)
  if (address === undefined) throw new InvalidSpecError('network.address', example)
  if (prefix < 1 || prefix > 30) throw new InvalidSpecError('network.address', `the prefix length must be 1 to 30, not ${prefix}`)
  const first = Math.floor(address / 2 ** 24)
  if (first === 0 || first === 127 || first >= 224) throw new InvalidSpecError('network.address', `${host as string} is not a unicast host address`)
  const size = 2 ** (32 - prefix)
  const network0 = address - (address % size)
  if (address === network0) throw new InvalidSpecError('network.address', `${host as string} is the network address of /${prefix}`)
  if (address === network0 + size - 1) throw new InvalidSpecError('network.address', `${host as string} is the broadcast address of /${prefix}`)
  if (network.gateway === undefined) return
  const gateway = ipv4(network.gateway)
  if (gateway === undefined) throw new InvalidSpecError('network.gateway', 'must be an IPv4 address such as "192.168.77.1"')
  if (gateway === address) throw new InvalidSpecError('network.gateway', 'is the VM\'s own address')
  if (gateway - (gateway % size) !== network0 || gateway === network0 || gateway === network0 + size - 1) throw new InvalidSpecError('network.gateway', `${network.gateway} is not a host of ${network.address}'s subnet`)
}
