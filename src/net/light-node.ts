import { createLibp2p, type Libp2p } from 'libp2p'
import type { PrivateKey } from '@libp2p/interface'
import { baseNodeOptions } from './node-base.js'
import type { FederationInit } from './federation.js'

export interface LightNodeInit {
  privateKey: PrivateKey
  /** a closed federation's swarm key (and allowlist): without the key, its peers cannot be reached */
  federation?: FederationInit
}

/**
 * A node that only dials, for the command line's few requests to one shop or plant: TCP, noise
 * and yamux (pnet in a closed federation), and nothing else: no listener, identify, ping,
 * gossipsub or DHT, and no connection monitor. The peer is dialled by the multiaddr the user gave
 * (with its /p2p/ id), so nothing needs to be discovered; the protocols it speaks need none of
 * these services, and loading and starting them is most of a full node's start.
 */
export async function createLightNode (init: LightNodeInit): Promise<Libp2p> {
  return await createLibp2p({
    ...baseNodeOptions({ privateKey: init.privateKey, listen: [], ...(init.federation !== undefined ? { federation: init.federation } : {}) }),
    connectionMonitor: { enabled: false },
    services: {}
  })
}
