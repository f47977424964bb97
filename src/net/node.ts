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
 * gossipsub's id of a message as it arrives, before its signature is checked: its author and
 * sequence number, as the signed message id is. gossipsub drops a message whose fast id it has seen
 * before checking its signature, and remembers a fast id only once the message has passed those
 * checks, so a forgery under a real message's id is never remembered and a real message after it
 * still gets through. Without it, each copy a mesh peer forwards had its Ed25519 signature checked
 * again: when calls went on gossipsub, most of a plant's CPU per bid (docs/benchmarks.md).
 */
export function fastMessageId (message: { from?: Uint8Array, seqno?: Uint8Array }): string {
  // an unsigned message fails the checks (StrictSign), so its id is never remembered
  if (message.from === undefined || message.seqno === undefined) return ''
  return `${base64(message.from)}:${base64(message.seqno)}`
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

/**
 * gossipsub tells its mesh peers IDONTWANT for every message this size or larger. vmplant's gossip
 * (load reports; calls and answers a peer publishes on the topics) is under a kilobyte, and flooded
 * by its author to the peers connected to it, which forward it to each other at once: the notice
 * costs one more write per mesh peer and saves little. Larger messages still get it.
 */
export const IDONTWANT_MIN_BYTES = 16 * 1024

/**
 * gossipsub's mesh degree: none. An author floods its message to every subscriber it is connected
 * to (`floodPublish`), which is every bidder a shop or broker waits for; a subscriber further away
 * gets it by gossip: a peer that has it tells up to `Dlazy` others at its next heartbeat (IHAVE),
 * and sends it to those that ask (IWANT). A mesh would have each plant forward each call to every
 * mesh peer and get a copy back from each, one noise-encrypted write each: at the default degree
 * (6, 4 to 12) most of a plant's CPU per bid, still 2.8 ms a bid at degree 2-3 against 1.6 ms with
 * none (docs/benchmarks.md, bench/load).
 */
export const MESH_DEGREE = { D: 0, Dlo: 0, Dhi: 0, Dscore: 0, Dout: 0, Dlazy: 3 } as const

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
      // the mesh's degree, fastMsgIdFn and idontwantMinDataSize: see MESH_DEGREE, fastMessageId and IDONTWANT_MIN_BYTES
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        floodPublish: true,
        batchPublish: true,
        emitSelf: false,
        ...MESH_DEGREE,
        fastMsgIdFn: fastMessageId,
        idontwantMinDataSize: IDONTWANT_MIN_BYTES,
        scoreParams: { IPColocationFactorWeight: 0, topics: topicScores(init.scoredTopics?.topics ?? [], init.scoredTopics?.halfWeight) }
      }),
      dht: kadDHT({ protocol: DHT_PROTOCOL, peerInfoMapper: passthroughMapper, clientMode: (init.dhtMode ?? (init.listen.length === 0 ? 'client' : 'server')) === 'client', logPrefix: `${init.logPrefix ?? 'vmplant'}:dht` })
    }
  }) as Promise<VmplantLibp2p>
}
