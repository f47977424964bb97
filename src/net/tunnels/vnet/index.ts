/**
 * `/vmplant/vnet/1.0.0`: a VNET-style tunnel. Ethernet frames travel between a domain's bridge on
 * a plant and the client's LAN, over a libp2p stream (noise-encrypted), opened with the domain's
 * credential. The plant's side (`vnetServer`) joins each authorized stream to a tap on the
 * domain's bridge; the client's side (`vnetProxy`) follows the plants that host the domain's VMs
 * and keeps one tunnel (`VnetTunnel`) to each, made again after a drop.
 */
import { VnetServer, type VnetServerComponents, type VnetServerInit } from './server.js'
import { VnetProxy, type VnetProxyComponents, type VnetProxyInit } from './proxy.js'

export { VnetRefusedError, TapError, VnetFrameError } from './errors.js'
export { VNET_PROTOCOL, MAX_FRAME_BYTES, MAX_OPEN_BYTES } from './wire.js'
export { openTap, checkBridge, checkInterfaceName, type TapPort, type TapPortInit } from './tap.js'
export { VnetTunnel, TUNNEL_DEFAULTS, type TunnelInit, type TunnelEvent } from './client.js'
export { VnetServer, VNET_SERVER_DEFAULTS, serverTapName, type VnetServerComponents, type VnetServerInit } from './server.js'
export { VnetProxy, PROXY_DEFAULTS, clientTapName, type VnetProxyComponents, type VnetProxyInit, type ProxyEvent, type DomainPlants } from './proxy.js'
export { credentialAuthorizer } from './authorize.js'
export type { PumpStats } from './pump.js'

/** The plant's side: `start()` registers the handler, `stop()` ends every tunnel and removes its taps. */
export interface VnetService {
  start(): Promise<void>
  stop(): Promise<void>
  /** the taps held now */
  taps(): string[]
  /** the last tunnels refused (at most 100): who, and why */
  readonly refused: ReadonlyArray<{ peer: string, reason: string }>
}

export function vnetServer (components: VnetServerComponents, init: VnetServerInit = {}): VnetService {
  return new VnetServer(components, init)
}

/** The client's side: one tunnel to every plant that hosts the domain's VMs, followed as they change. */
export function vnetProxy (components: VnetProxyComponents, init: VnetProxyInit): VnetProxy {
  return new VnetProxy(components, init)
}
