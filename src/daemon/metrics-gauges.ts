import { Gauge, type Registry } from 'prom-client'
import type { ProductionLine } from '../interface/index.js'
import type { PlantStore, Warehouse } from '../store/index.js'
import type { VmplantLibp2p } from '../net/node.js'
import { gossipPeersWithoutStream } from '../net/gossip-links.js'
import { dhtPeers } from '../net/protocols/image/index.js'

/** What the scrape-time gauges read; each part is absent on a node without it. */
export interface MetricsSources {
  libp2p?: VmplantLibp2p
  store?: PlantStore
  warehouse?: Warehouse
  line?: ProductionLine
}

/** The gauges read from the node's parts when scraped: the plant's (store, warehouse, line) and the network's. */
export function registerSourceGauges (registers: Registry[], sources: () => MetricsSources): void {
  registerPlantGauges(registers, sources)
  registerNetworkGauges(registers, sources)
}

function registerPlantGauges (registers: Registry[], sources: () => MetricsSources): void {
  new Gauge({
    name: 'vmplant_vms',
    help: 'VM records in the plant store, by state and line',
    labelNames: ['state', 'line'],
    registers,
    async collect () {
      this.reset()
      const store = sources().store
      if (store === undefined) return
      for (const { classad } of await store.listVms()) this.inc({ state: classad.state, line: classad.line })
    }
  })
  new Gauge({
    name: 'vmplant_warehouse_images',
    help: 'golden images in the plant\'s warehouse',
    registers,
    async collect () {
      const warehouse = sources().warehouse
      if (warehouse !== undefined) this.set((await warehouse.list()).length)
    }
  })
  new Gauge({
    name: 'vmplant_warehouse_bytes',
    help: 'bytes of the artifacts of the warehouse\'s golden images',
    registers,
    async collect () {
      const warehouse = sources().warehouse
      if (warehouse === undefined) return
      let bytes = 0
      for (const record of await warehouse.list()) for (const artifact of record.descriptor.artifacts) bytes += artifact.bytes
      this.set(bytes)
    }
  })
  new Gauge({
    name: 'vmplant_line_reserved_bytes',
    help: 'host memory the production line holds beyond its VMs: its warm pool\'s waiting processes',
    labelNames: ['line'],
    registers,
    collect () {
      const line = sources().line
      if (line !== undefined) this.set({ line: line.kind }, line.reservedMB() * 1024 * 1024)
    }
  })
}

function registerNetworkGauges (registers: Registry[], sources: () => MetricsSources): void {
  new Gauge({
    name: 'vmplant_gossip_peers',
    help: 'peers this node exchanges gossipsub messages with',
    registers,
    collect () {
      const libp2p = sources().libp2p
      if (libp2p !== undefined) this.set(libp2p.services.pubsub.getPeers().length)
    }
  })
  new Gauge({
    name: 'vmplant_gossip_peers_without_stream',
    help: 'gossipsub peers this node has no stream to, so that what it publishes does not reach them: for a moment after they join; for longer, a stream that broke and is being opened again',
    registers,
    collect () {
      const libp2p = sources().libp2p
      if (libp2p !== undefined) this.set(gossipPeersWithoutStream(libp2p))
    }
  })
  new Gauge({
    name: 'vmplant_dht_peers',
    help: 'peers in this node\'s kad-dht routing table',
    registers,
    collect () {
      const libp2p = sources().libp2p
      const peers = libp2p === undefined ? undefined : dhtPeers(libp2p)
      if (peers !== undefined) this.set(peers)
    }
  })
}
