import type { VmplantLibp2p } from '../net/node.js'
import { dhtPeers } from '../net/protocols/image/index.js'
import { STATUS_LIST_LIMIT, type NodeStatus, type StatusDetail } from '../net/protocols/status/index.js'
import type { PlantStore, Warehouse } from '../store/index.js'
import type { NodeConfig } from './config.js'

/** What a node's status is read from: nothing is kept for it, so it cannot drift from the store. */
export interface StatusSources {
  libp2p: VmplantLibp2p
  config: Pick<NodeConfig, 'roles' | 'site'>
  /** the plant's, on plants */
  plant?: { store: PlantStore, warehouse: Warehouse, line: string }
}

/**
 * The node's view for `/vmplant/status/1.0.0`: VMs from the plant store (their one record),
 * networks from their allocations, images from the warehouse, peers from libp2p. At 'counts' no
 * list that names a client's VM or domain is even read into the answer.
 */
export async function nodeStatus (sources: StatusSources, detail: StatusDetail, options: { signal?: AbortSignal } = {}): Promise<NodeStatus> {
  options.signal?.throwIfAborted()
  const { libp2p, config, plant } = sources
  const connections = libp2p.getConnections()
  const connected = new Map<string, string>()
  for (const c of connections) if (!connected.has(c.remotePeer.toString())) connected.set(c.remotePeer.toString(), c.remoteAddr.toString())
  const status: NodeStatus = {
    peer: libp2p.peerId.toString(),
    roles: config.roles,
    ...(config.site !== undefined ? { site: config.site } : {}),
    addrs: libp2p.getMultiaddrs().slice(0, 64).map((a) => a.toString()),
    detail,
    peers: {
      connected: connected.size,
      gossip: libp2p.services.pubsub.getPeers().length,
      dht: dhtPeers(libp2p) ?? 0,
      ...(detail === 'full' ? { list: [...connected].slice(0, STATUS_LIST_LIMIT).map(([peer, addr]) => ({ peer, addr })) } : {})
    }
  }
  if (plant === undefined) return status
  const records = await plant.store.listVms(options)
  const networks = await plant.store.listNetworks(options)
  const images = await plant.warehouse.list()
  const byState: Record<string, number> = {}
  for (const { classad } of records) byState[classad.state] = (byState[classad.state] ?? 0) + 1
  const bytesOf = (artifacts: Array<{ bytes: number }>): number => artifacts.reduce((sum, a) => sum + a.bytes, 0)
  status.plant = {
    line: plant.line,
    vms: {
      count: records.length,
      byState,
      ...(detail === 'full'
        ? {
            list: records.slice(0, STATUS_LIST_LIMIT).map(({ classad: c }) => ({ vmid: c.vmid, state: c.state, line: c.line, domain: c.domain, memoryMB: c.memoryMB, owner: c.owner, createdAt: c.createdAt }))
          }
        : {})
    },
    networks: {
      count: networks.length,
      ...(detail === 'full' ? { list: networks.slice(0, STATUS_LIST_LIMIT).map((n) => ({ domain: n.domain, name: n.name, index: n.index })) } : {})
    },
    images: {
      count: images.length,
      bytes: images.reduce((sum, r) => sum + bytesOf(r.descriptor.artifacts), 0),
      list: images.slice(0, STATUS_LIST_LIMIT).map((r) => ({ id: r.id, line: r.descriptor.line, memoryMB: r.descriptor.hardware.memoryMB, actions: r.descriptor.applied.length, bytes: bytesOf(r.descriptor.artifacts), source: r.source }))
    }
  }
  return status
}
