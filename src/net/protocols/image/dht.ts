import type { Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import { CID } from 'multiformats/cid'
import type { AbortOptions } from '../../../interface/index.js'

/** The libp2p node the image index needs: one with a kad-dht. */
export type ImagesLibp2p = Libp2p<{ dht: KadDHT }>

/** Peers in the DHT's routing table, when kad-dht shows it. */
export function dhtPeers (libp2p: ImagesLibp2p): number | undefined {
  return (libp2p.services.dht as { routingTable?: { size: number } }).routingTable?.size
}

/** Providers of `key` other than this node, as the DHT finds them; their addresses go to the peer store for dialling. */
export async function * providers (libp2p: ImagesLibp2p, key: string, options: AbortOptions = {}): AsyncGenerator<string> {
  options.signal?.throwIfAborted()
  for await (const event of libp2p.services.dht.findProviders(CID.parse(key), { signal: options.signal })) {
    if (event.name !== 'PROVIDER') continue
    for (const peer of event.providers) {
      if (peer.id.equals(libp2p.peerId)) continue
      if (peer.multiaddrs.length > 0) await libp2p.peerStore.merge(peer.id, { multiaddrs: peer.multiaddrs }).catch(() => {})
      yield peer.id.toString()
    }
  }
}

/** Announces this node as a provider of `key`; resolves to the DHT peers that took the record. */
export async function provide (libp2p: ImagesLibp2p, key: string, options: AbortOptions = {}): Promise<number> {
  options.signal?.throwIfAborted()
  let reached = 0
  for await (const event of libp2p.services.dht.provide(CID.parse(key), { signal: options.signal })) {
    if (event.name === 'PEER_RESPONSE' && event.messageName === 'ADD_PROVIDER') reached++
  }
  return reached
}
