import '../polyfill.js'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import type { PrivateKey } from '@libp2p/interface'
import { DHT_PROTOCOL } from './protocols.js'
import { federationOptions, topicScores, type FederationInit } from './federation.js'

export type VmplantServices = {
  identify: ReturnType<ReturnType<typeof identify>>
  ping: ReturnType<ReturnType<typeof ping>>
  pubsub: GossipSub
  dht: KadDHT
}

export type VmplantLibp2p = Libp2p<VmplantServices>

export interface NodeInit {
  privateKey: PrivateKey
  /** TCP multiaddrs to listen on; none for a client that only dials */
  listen: string[]
  /** log prefix for this node's libp2p components */
  logPrefix?: string
  /**
   * 'server' answers DHT queries and keeps a full routing table, dialling the peers it learns of;
   * 'client' only asks. @default 'server' when listening, else 'client'
   */
  dhtMode?: 'server' | 'client'
  /** a closed federation: its swarm key and peer allowlist; absent: open to any peer */
  federation?: FederationInit
  /** gossipsub topics this node scores its peers on (`topicScores`); the second list at half weight */
  scoredTopics?: { topics: string[], halfWeight?: string[] }
}

/**
 * A libp2p node as every vmplant peer runs it: TCP, noise, yamux, identify, ping, gossipsub and
 * a kad-dht of our own. Loopback and private addresses are kept in the DHT, since a federation's
 * sites often sit on private networks and tests run on 127.0.0.1.
 */
export async function createNode (init: NodeInit): Promise<VmplantLibp2p> {
  return createLibp2p({
    start: false,
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...federationOptions(init.federation),
    // a site's plants may all reach a shop from one address; libp2p's default admits 5 a second
    connectionManager: { inboundConnectionThreshold: 1000, maxIncomingPendingConnections: 256 },
    services: {
      identify: identify(),
      ping: ping(),
      // gossipsub penalises more than 10 peers sharing one IP; a site's plants behind one NAT
      // (or a test on 127.0.0.1) would be graylisted and their subscriptions ignored
      // batchPublish encodes a call once for all of its recipients
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, floodPublish: true, batchPublish: true, emitSelf: false, scoreParams: { IPColocationFactorWeight: 0, topics: topicScores(init.scoredTopics?.topics ?? [], init.scoredTopics?.halfWeight) } }),
      dht: kadDHT({ protocol: DHT_PROTOCOL, peerInfoMapper: passthroughMapper, clientMode: (init.dhtMode ?? (init.listen.length === 0 ? 'client' : 'server')) === 'client', logPrefix: `${init.logPrefix ?? 'vmplant'}:dht` })
    }
  }) as Promise<VmplantLibp2p>
}
