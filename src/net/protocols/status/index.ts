import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../../../interface/index.js'
import type { Libp2p } from '@libp2p/interface'
import { call, serve } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'
import { STATUS_MAX_BYTES, STATUS_REQUEST_MAX_BYTES, nodeStatusSchema, statusRequestSchema, type NodeStatus, type StatusDetail } from './schema.js'

export * from './schema.js'
export { NodeUnreachableError } from './errors.js'

export interface StatusProtocolComponents { libp2p: Libp2p }

export interface StatusProtocolInit {
  /** peer ids that get the 'full' view (the operator's client keys); @default none */
  allow?: string[]
  /** how long finding and connecting to the node may take; @default 10000 */
  dialTimeoutMs?: number
}

/**
 * `/vmplant/status/1.0.0`: a node's view of itself (roles, peers, VMs, networks, images) for its
 * operator. The edge decides what the asker sees from the noise-authenticated peer alone.
 */
export interface StatusProtocol {
  /** registers the node's side: `view` builds the answer at the detail the edge allows */
  handle(view: (detail: StatusDetail, signal: AbortSignal) => Promise<NodeStatus>): Promise<void>
  /** asks a node */
  ask(node: Multiaddr, options?: AbortOptions): Promise<NodeStatus>
}

class Status implements StatusProtocol {
  private readonly allow: Set<string>

  constructor (private readonly components: StatusProtocolComponents, private readonly init: StatusProtocolInit) {
    this.allow = new Set(init.allow ?? [])
  }

  /** what `peer` may see */
  detailFor (peer: string): StatusDetail {
    return this.allow.has(peer) ? 'full' : 'counts'
  }

  async handle (view: (detail: StatusDetail, signal: AbortSignal) => Promise<NodeStatus>): Promise<void> {
    await serve(this.components.libp2p, PROTOCOLS.status, statusRequestSchema, async (_request, { remotePeer, signal }) => {
      const detail = this.detailFor(remotePeer.toString())
      const status = await view(detail, signal)
      // whatever the view built, a stranger's answer carries no VM, network or peer by id
      return detail === 'full' ? status : countsOnly(status)
    }, { maxBytes: STATUS_REQUEST_MAX_BYTES, maxInboundStreams: 8, timeoutMs: 30_000 })
  }

  async ask (node: Multiaddr, options: AbortOptions = {}): Promise<NodeStatus> {
    return await call(this.components.libp2p, node, PROTOCOLS.status, { type: 'status' }, nodeStatusSchema, {
      ...options,
      maxBytes: STATUS_MAX_BYTES,
      ...(this.init.dialTimeoutMs !== undefined ? { dialTimeoutMs: this.init.dialTimeoutMs } : {})
    })
  }
}

/** The view without anything that names a client's VM or domain, or another peer. */
export function countsOnly (status: NodeStatus): NodeStatus {
  const { list: _peers, ...peers } = status.peers
  const plant = status.plant
  return {
    ...status,
    detail: 'counts',
    peers,
    ...(plant !== undefined
      ? { plant: { ...plant, vms: { count: plant.vms.count, byState: plant.vms.byState }, networks: { count: plant.networks.count } } }
      : {})
  }
}

export function statusProtocol (components: StatusProtocolComponents, init: StatusProtocolInit = {}): StatusProtocol {
  return new Status(components, init)
}
