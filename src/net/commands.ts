import type { ClientRequest, Order, PlantCommand, ProgressSink, ShopCommand, VmRequest } from '../interface/index.js'
import { assertSender, verifyAuth, verifyCreate, verifyDomainCredential, verifyDomainCredentials } from './auth.js'

/**
 * Requests from the wire as the commands the actors take, once their signatures and domain
 * credentials verify: the one place that check is written. The libp2p protocols call these with
 * the noise-authenticated sender; the simulator's in-memory network with the sender it knows by
 * construction. Pure: no I/O beyond the signature checks.
 */

/** A shop's order for a plant: the client's signature over spec and domain, and the domain's credential for that client. */
export async function orderCommand (order: Order, from: string, now: number, progress: ProgressSink): Promise<Extract<PlantCommand, { type: 'order.produce' }>> {
  assertSender(order.auth.owner, order.owner, `order ${order.requestId}'s signature`)
  // the plant is the authority on domains: the shop only passed the client's credential on
  const domain = await verifyDomainCredential(order.credential, { peer: order.owner, now, domain: order.domain })
  await verifyCreate(order.auth, order.spec, order.domain, now, domain.key)
  return { to: 'plant', type: 'order.produce', order, from, progress }
}

/** A client's request about VMs, forwarded by a shop (`from`): the credentials must name the client whose signature verified. */
export async function vmCommand (request: VmRequest, from: string, now: number): Promise<Extract<PlantCommand, { type: 'vm.query' | 'vm.destroy' | 'vm.list' }>> {
  const owner = request.auth.owner
  switch (request.type) {
    case 'vm.query':
    case 'vm.destroy': {
      await verifyAuth(request.auth, request.type === 'vm.query' ? 'query' : 'destroy', request.vmid, now)
      const domains = await verifyDomainCredentials(request.credentials, { peer: owner, now })
      return { to: 'plant', type: request.type, vmid: request.vmid, owner, domains, from }
    }
    case 'vm.list': {
      await verifyAuth(request.auth, 'list', '', now)
      const domains = (request.credentials ?? []).length > 0 ? await verifyDomainCredentials(request.credentials, { peer: owner, now }) : []
      return { to: 'plant', type: 'vm.list', owner, domains, from }
    }
    default: {
      const unknown: never = request
      throw new Error(`unknown vm request ${(unknown as { type: string }).type}`)
    }
  }
}

/**
 * A client's request to the shop: the signer must be the sending client, and the signature and
 * the domain credentials must verify (early: the plant checks them again and decides, the shop
 * only passes them on).
 */
export async function clientCommand (request: ClientRequest, client: string, now: number, progress: ProgressSink): Promise<Extract<ShopCommand, { type: `client.${string}` }>> {
  assertSender(request.auth.owner, client, `${request.type} request's signature`)
  const { auth } = request
  switch (request.type) {
    case 'create': {
      const { credential } = request
      await verifyDomainCredential(credential, { peer: client, now, domain: request.domain })
      if (credential === undefined) throw new Error('unreachable: verifyDomainCredential refuses a missing credential')
      await verifyCreate(auth, request.spec, request.domain, now, credential.key)
      return { to: 'shop', type: 'client.create', spec: request.spec, domain: request.domain, from: client, auth, credential, progress }
    }
    case 'query':
    case 'destroy':
      await verifyAuth(auth, request.type, request.vmid, now)
      await verifyDomainCredentials(request.credentials, { peer: client, now })
      return { to: 'shop', type: request.type === 'query' ? 'client.query' : 'client.destroy', vmid: request.vmid, from: client, auth, credentials: request.credentials ?? [] }
    case 'list':
      await verifyAuth(auth, 'list', '', now)
      // a client that holds no credential has no VMs to list
      if ((request.credentials ?? []).length > 0) await verifyDomainCredentials(request.credentials, { peer: client, now })
      return { to: 'shop', type: 'client.list', from: client, auth, credentials: request.credentials ?? [] }
    default: {
      const unknown: never = request
      throw new Error(`unknown client request ${(unknown as { type: string }).type}`)
    }
  }
}
