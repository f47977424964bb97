import { peerIdFromString } from '@libp2p/peer-id'
import { z } from 'zod'
import { vmRequestSchema, type AbortOptions, type Classad, type DomainRef, type VmRequest } from '../../../interface/index.js'
import { call, serve } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'
import type { SigningEdgeComponents } from '../target.js'
import { verifyAuth, verifyDomainCredentials } from '../../auth.js'

export { AuthError } from '../../auth.js'

/**
 * The plant's answers about VMs; `owner` is the client whose signature the edge verified, and
 * `domains` the domains whose credentials for that client it verified: the plant answers only
 * for VMs of those domains.
 */
export interface VmHandlers {
  query: (vmid: string, owner: string, domains: DomainRef[], signal: AbortSignal) => Promise<Classad>
  destroy: (vmid: string, owner: string, domains: DomainRef[], signal: AbortSignal) => Promise<{ vmid: string, destroyed: true }>
  list: (owner: string, domains: DomainRef[], signal: AbortSignal) => Promise<Classad[]>
}

export interface VmProtocolInit {
  /** how long a forwarded request may wait to find the plant; @default 10000 */
  dialTimeoutMs?: number
  /** requests one connection (a shop's) may have in flight before more are answered "busy"; @default DEFAULT_MAX_INBOUND_STREAMS */
  maxRequestsPerConnection?: number
}

export interface VmProtocolComponents extends SigningEdgeComponents {}

/** `/vmplant/vm/1.0.0`: a shop forwards a client's signed query, destroy or list to a plant. */
export interface VmProtocol {
  /** registers the plant's side: every request carries the client's signature and domain credentials, checked here */
  handle(handlers: VmHandlers): Promise<void>
  /** the shop's side */
  request(plant: string, request: VmRequest, options?: AbortOptions): Promise<unknown>
}

class Vms implements VmProtocol {
  constructor (private readonly components: VmProtocolComponents, private readonly init: VmProtocolInit) {}

  async handle (handlers: VmHandlers): Promise<void> {
    const { libp2p, clock } = this.components
    await serve(libp2p, PROTOCOLS.vm, vmRequestSchema, async (request, { signal }): Promise<unknown> => {
      const now = clock.now()
      switch (request.type) {
        // the connection is the shop's: the credentials must name the client whose signature verified
        case 'vm.query': {
          await verifyAuth(request.auth, 'query', request.vmid, now)
          const domains = await verifyDomainCredentials(request.credentials, { peer: request.auth.owner, now })
          return await handlers.query(request.vmid, request.auth.owner, domains, signal)
        }
        case 'vm.destroy': {
          await verifyAuth(request.auth, 'destroy', request.vmid, now)
          const domains = await verifyDomainCredentials(request.credentials, { peer: request.auth.owner, now })
          return await handlers.destroy(request.vmid, request.auth.owner, domains, signal)
        }
        case 'vm.list': {
          await verifyAuth(request.auth, 'list', '', now)
          const domains = (request.credentials ?? []).length > 0 ? await verifyDomainCredentials(request.credentials, { peer: request.auth.owner, now }) : []
          return await handlers.list(request.auth.owner, domains, signal)
        }
        default: {
          const unknown: never = request
          throw new Error(`unknown vm request ${(unknown as { type: string }).type}`)
        }
      }
    }, { ...(this.init.maxRequestsPerConnection !== undefined ? { maxInboundStreams: this.init.maxRequestsPerConnection } : {}) })
  }

  async request (plant: string, request: VmRequest, options: AbortOptions = {}): Promise<unknown> {
    return await call(this.components.libp2p, peerIdFromString(plant), PROTOCOLS.vm, request, z.unknown(), { ...options, ...(this.init.dialTimeoutMs !== undefined ? { dialTimeoutMs: this.init.dialTimeoutMs } : {}) })
  }
}

export function vmProtocol (components: VmProtocolComponents, init: VmProtocolInit = {}): VmProtocol {
  return new Vms(components, init)
}
