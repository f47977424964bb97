/**
 * Host-only networks on the host: a Linux bridge per domain network and a tap per VM NIC, made
 * with iproute2. The plant reaches the bridges through the `HostNetworks` port; the lines make
 * and remove their VMs' taps here.
 */
export { hostNetworks, prefixFor, validateHostNetworksInit, type HostNetworksInit } from './host-networks.js'
export { createTap, deleteTap, masterOf } from './tap.js'
export { attachVmTap, detachVmTap, type VmTap } from './vm-tap.js'
export { HostNetworkError, InvalidHostNetworksInitError } from './errors.js'
