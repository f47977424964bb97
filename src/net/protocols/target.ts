import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { z } from 'zod'
import type { PeerRef } from '../../interface/index.js'
import type { VmplantLibp2p } from '../node.js'

export const ackSchema = z.strictObject({ ack: z.literal(true) })

/** a peer we are connected to is dialled by id; otherwise by the addresses it gave */
export function peerTarget (libp2p: Libp2p, ref: PeerRef): PeerId | Multiaddr[] {
  const id = peerIdFromString(ref.peer)
  if (libp2p.getConnections(id).length > 0 || ref.addrs.length === 0) return id
  return ref.addrs.map((a) => {
    const ma = multiaddr(a)
    return ma.getComponents().some((c) => c.name === 'p2p') ? ma : ma.encapsulate(`/p2p/${ref.peer}`)
  })
}

/** What a protocol whose edge checks client signatures needs: the node, and a clock for the signatures' age. */
export interface SigningEdgeComponents {
  libp2p: VmplantLibp2p
  /** the node's clock, for the age of client signatures */
  clock: { now(): number }
}
