import '../polyfill.js'
import { createLibp2p, type Libp2p } from 'libp2p'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import type { PrivateKey } from '@libp2p/interface'
import { DHT_PROTOCOL } from './protocols.js'
import type { FederationInit } from './federation.js'
import { topicScores } from './topic-scores.js'
import { baseNodeOptions } from './node-base.js'

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

/** how long a connection's ping may take before libp2p's connection monitor aborts the connection */
export const CONNECTION_PING_TIMEOUT_MS = 60_000

/**
 * A libp2p node as every vmplant peer runs it: the base every node has (`node-base.ts`: TCP,
 * noise, yamux, the federation's gater), and identify, ping, gossipsub and a kad-dht of our own.
 * Loopback and private addresses are kept in the DHT, since a federation's sites often sit on
 * private networks and tests run on 127.0.0.1.
 */
export async function createNode (init: NodeInit): Promise<VmplantLibp2p> {
  return createLibp2p({
    ...baseNodeOptions({ privateKey: init.privateKey, listen: init.listen, ...(init.federation !== undefined ? { federation: init.federation } : {}) }),
    // a site's plants may all reach a shop from one address; libp2p's default admits 5 a second
    connectionManager: { inboundConnectionThreshold: 1000, maxIncomingPendingConnections: 256 },
    // a peer busy with a load of requests may take seconds to answer a ping; libp2p's 5 s would
    // abort the connection and reset every request on it. A dead peer is still found in a minute.
    connectionMonitor: { pingTimeout: { minTimeout: CONNECTION_PING_TIMEOUT_MS, maxTimeout: 2 * CONNECTION_PING_TIMEOUT_MS } },
    services: {
      identify: identify(),
      // the connection monitor starts a ping every 10 s; one may be outstanding for a minute on a busy peer
      ping: ping({ maxInboundStreams: 16, maxOutboundStreams: 16 }),
      // gossipsub penalises more than 10 peers sharing one IP; a site's plants behind one NAT
      // (or a test on 127.0.0.1) would be graylisted and their subscriptions ignored
      // batchPublish encodes a call once for all of its recipients
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, floodPublish: true, batchPublish: true, emitSelf: false, scoreParams: { IPColocationFactorWeight: 0, topics: topicScores(init.scoredTopics?.topics ?? [], init.scoredTopics?.halfWeight) } }),
      dht: kadDHT({ protocol: DHT_PROTOCOL, peerInfoMapper: passthroughMapper, clientMode: (init.dhtMode ?? (init.listen.length === 0 ? 'client' : 'server')) === 'client', logPrefix: `${init.logPrefix ?? 'vmplant'}:dht` })
    }
  }) as Promise<VmplantLibp2p>
}
