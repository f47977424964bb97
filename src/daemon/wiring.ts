import type { Logger } from '@libp2p/logger'
import type { VmplantLibp2p } from '../net/node.js'
import type { Clock } from '../interface/index.js'
import { bidsService, type BidsService } from '../net/protocols/bids/index.js'
import { loadService, type LoadService } from '../net/protocols/load/index.js'
import { orderProtocol, type OrderProtocol } from '../net/protocols/order/index.js'
import { vmProtocol, type VmProtocol } from '../net/protocols/vm/index.js'
import { clientProtocol, type ClientProtocol } from '../net/protocols/client/index.js'
import { warehouseProtocol, type WarehouseProtocol } from '../net/protocols/warehouse/index.js'
import { credentialAuthorizer, vnetServer, type VnetService, type VnetServerComponents } from '../net/tunnels/vnet/index.js'
import { domainIdOf, type DomainRef, type Inbox, type PlantStore } from '../interface/index.js'

/** A message the edge dropped; kept for operators (and tests) to see. */
export interface DroppedMessage { what: string, from: string | undefined, reason: string }

/** Keeps the last 100 dropped messages. */
function keepDropped (dropped: DroppedMessage[], message: DroppedMessage): void {
  dropped.push(message)
  if (dropped.length > 100) dropped.shift()
}

/** The bidding protocol of a node, producing its roles' commands into the edge table. */
export function createBids (libp2p: VmplantLibp2p, roles: { plant: boolean, broker: boolean, shop: boolean }, site: string | undefined, inbox: Inbox, log: Logger, dropped: DroppedMessage[]): BidsService {
  return bidsService({ libp2p }, { ...roles, ...(site !== undefined ? { site } : {}), logPrefix: `${log.name ?? 'vmplant'}:bids` }, {
    inbox,
    onDropped: (what, from, reason) => {
      log('dropped a %s from %s: %s', what, from, reason)
      keepDropped(dropped, { what, from, reason })
    }
  })
}

/** The load reports of a site (a plant's or a broker's side), producing commands into the edge table. */
export function createLoad (libp2p: VmplantLibp2p, roles: { plant: boolean, broker: boolean }, site: string, inbox: Inbox, log: Logger, dropped: DroppedMessage[]): LoadService {
  return loadService({ libp2p }, { ...roles, site, logPrefix: `${log.name ?? 'vmplant'}:load` }, {
    inbox,
    onDropped: (what, from, reason) => { keepDropped(dropped, { what, from, reason }) }
  })
}

/** The request/response protocols of a node: their client halves serve the transport, their edges the actors. */
export interface NodeProtocols { orders: OrderProtocol, vms: VmProtocol, warehouse: WarehouseProtocol, clients: ClientProtocol }

/** The node's protocols; its `maxRequestsPerConnection` bounds those a load comes in on (creates, orders, VM requests). */
export function createProtocols (libp2p: VmplantLibp2p, clock: Clock, limits: { maxRequestsPerConnection: number }): NodeProtocols {
  const { maxRequestsPerConnection } = limits
  return {
    orders: orderProtocol({ libp2p, clock }, { maxRequestsPerConnection }),
    vms: vmProtocol({ libp2p, clock }, { maxRequestsPerConnection }),
    warehouse: warehouseProtocol({ libp2p }),
    clients: clientProtocol({ libp2p, clock }, { maxRequestsPerConnection })
  }
}

/**
 * Attaches the edge table to the protocols of the node's roles. Each protocol has decoded the
 * frame, checked its size and bound it to its sender, and gives the table a command.
 */
export async function serveProtocols (protocols: NodeProtocols, inbox: Inbox): Promise<void> {
  if (inbox.serves('plant')) {
    await protocols.orders.handle(inbox)
    await protocols.vms.handle(inbox)
    await protocols.warehouse.handle(async (request, signal) => await inbox.deliver({ to: 'plant', type: 'warehouse.read', request }, { signal }))
  }
  if (inbox.serves('shop')) await protocols.clients.handle(inbox)
}

/** What a plant's VNET edge needs from the node: the bridge of a domain, and who may open a tunnel. */
export interface VnetParts {
  /** @default the bridge of the domain's network as the plant holds it, also while its first VM is made (`plantBridges`) */
  bridgeFor?: VnetServerComponents['bridgeFor']
  /** @default the domain credential must verify for the peer at the other end (`credentialAuthorizer`) */
  authorize?: VnetServerComponents['authorize']
  /** the taps' MTU: the domain network's; @default 1500 */
  mtu?: number
}

/**
 * A domain's bridge as the plant's store records it: the network allocated to the domain (its name
 * and key); undefined when the plant runs none of the domain's VMs. The server then checks that
 * the bridge exists, so a plant without real bridges refuses tunnels with that reason.
 */
export function storeBridges (store: PlantStore): (domain: DomainRef) => Promise<string | undefined> {
  return async (domain) => (await store.listNetworks()).find((n) => n.domain === domainIdOf(domain.name, domain.key))?.name
}

/**
 * A domain's bridge as the plant's `vm.list` names it: its recorded VMs' network, or that of an
 * order it is producing (`creating`), so that a tunnel reaches the first VM while it asks for
 * DHCP. Undefined when the plant runs and makes none of the domain's VMs.
 */
export function plantBridges (plant: Inbox, self: string): (domain: DomainRef) => Promise<string | undefined> {
  // within the tunnel's own opening deadline (VNET_SERVER_DEFAULTS.openTimeoutMs)
  return async (domain) => (await plant.deliver({ to: 'plant', type: 'vm.list', owner: '', domains: [domain], from: self }, { signal: AbortSignal.timeout(10_000) }))
    .find((ad) => ad.network.kind === 'bridge' && ad.state !== 'crashed')?.network.name
}

/** The plant's side of `/vmplant/vnet/1.0.0`, started and stopped with the node. */
export function createVnet (libp2p: VmplantLibp2p, clock: Clock, store: PlantStore, parts: VnetParts, log: Logger, plant?: Inbox): VnetService {
  return vnetServer({
    libp2p,
    authorize: parts.authorize ?? credentialAuthorizer(clock),
    bridgeFor: parts.bridgeFor ?? (plant !== undefined ? plantBridges(plant, libp2p.peerId.toString()) : storeBridges(store))
  }, { logPrefix: log.name ?? 'vmplant', ...(parts.mtu !== undefined ? { mtu: parts.mtu } : {}) })
}
