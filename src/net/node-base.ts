import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import type { PrivateKey } from '@libp2p/interface'
import type { Libp2pInit } from 'libp2p'
import { federationOptions, type FederationInit } from './federation.js'

export interface BaseNodeInit {
  privateKey: PrivateKey
  /** TCP multiaddrs to listen on; none for a client that only dials */
  listen: string[]
  /** a closed federation: its swarm key and peer allowlist; absent: open to any peer */
  federation?: FederationInit
}

/**
 * What every vmplant libp2p node has, full (`node.ts`) or light (`light-node.ts`): TCP, noise
 * (over pnet in a closed federation), yamux, the federation's connection gater; not started.
 */
export function baseNodeOptions (init: BaseNodeInit): Libp2pInit & { start: false } {
  return {
    start: false,
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...federationOptions(init.federation)
  }
}
