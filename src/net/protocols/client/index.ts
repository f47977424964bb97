import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { z } from 'zod'
import {
  classadSchema, clientRequestSchema, createResultSchema, destroyResultSchema, listResultSchema,
  type AbortOptions, type Auth, type Classad, type CreateProgress, type CreateResult, type DomainCredential, type ListResult, type ProgressOptions
} from '../../../interface/index.js'
import { call, serve, type ServeOptions } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'
import type { SigningEdgeComponents } from '../target.js'
import { checkedProgress } from '../progress.js'
import { assertSender, signAuth, signCreate, verifyAuth, verifyCreate, verifyDomainCredential, verifyDomainCredentials } from '../../auth.js'

export { AuthError } from '../../auth.js'

/**
 * What the shop does with a client's request; the edge has bound `owner` to the noise-authenticated
 * peer, checked the signature and the domain credentials (early: the plant checks them again and
 * decides, the shop only passes them on).
 */
export interface ClientHandlers {
  /** `progress` sends the create's steps (the bidding, the order, the plant's production) to the client ahead of the result */
  create: (spec: unknown, domain: string, owner: string, auth: Auth, credential: DomainCredential, signal: AbortSignal, progress: (event: CreateProgress) => void) => Promise<CreateResult>
  query: (vmid: string, auth: Auth, credentials: DomainCredential[], signal: AbortSignal) => Promise<Classad>
  destroy: (vmid: string, auth: Auth, credentials: DomainCredential[], signal: AbortSignal) => Promise<{ vmid: string, destroyed: true }>
  list: (auth: Auth, credentials: DomainCredential[], signal: AbortSignal) => Promise<ListResult>
}

export interface ClientProtocolInit {
  /** how long a create may take before the stream is dropped: bidding plus the order; @default 900000 */
  timeoutMs?: number
  /** requests one client's connection may have in flight before more are answered "busy"; @default DEFAULT_MAX_INBOUND_STREAMS */
  maxRequestsPerConnection?: number
}

/** any node: the shop's full one serves, a client's light one (`light-node.ts`) only sends */
export interface ClientProtocolComponents extends Omit<SigningEdgeComponents, 'libp2p'> { libp2p: Libp2p }

/** `/vmplant/client/1.0.0`: a client's create, query, destroy and list, signed by the client. */
export interface ClientProtocol {
  /** registers the shop's side: the signer must be the sending peer, and the signature must verify */
  handle(handlers: ClientHandlers): Promise<void>
  /** the client's side: requests to one shop, signed with `key` */
  shop(address: Multiaddr, key: PrivateKey): ShopClient
}

export const CLIENT_DEFAULTS = { timeoutMs: 900_000 } as const

export function clientProtocol (components: ClientProtocolComponents, init: ClientProtocolInit = {}): ClientProtocol {
  const limits = { timeoutMs: init.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs, ...(init.maxRequestsPerConnection !== undefined ? { maxInboundStreams: init.maxRequestsPerConnection } : {}) }
  return {
    handle: async (handlers) => { await serveClients(components, handlers, limits) },
    shop: (address, key) => new ShopClient(components.libp2p, address, key)
  }
}

async function serveClients (components: ClientProtocolComponents, handlers: ClientHandlers, limits: ServeOptions): Promise<void> {
  await serve(components.libp2p, PROTOCOLS.client, clientRequestSchema, async (request, { remotePeer, signal, progress }): Promise<unknown> => {
    const client = remotePeer.toString()
    assertSender(request.auth.owner, client, `${request.type} request's signature`)
    const now = components.clock.now()
    switch (request.type) {
      case 'create': {
        const { credential } = request
        await verifyDomainCredential(credential, { peer: client, now, domain: request.domain })
        if (credential === undefined) throw new Error('unreachable: verifyDomainCredential refuses a missing credential')
        await verifyCreate(request.auth, request.spec, request.domain, now, credential.key)
        return await handlers.create(request.spec, request.domain, client, request.auth, credential, signal, progress)
      }
      case 'query':
        await verifyAuth(request.auth, 'query', request.vmid, now)
        await verifyDomainCredentials(request.credentials, { peer: client, now })
        return await handlers.query(request.vmid, request.auth, request.credentials ?? [], signal)
      case 'destroy':
        await verifyAuth(request.auth, 'destroy', request.vmid, now)
        await verifyDomainCredentials(request.credentials, { peer: client, now })
        return await handlers.destroy(request.vmid, request.auth, request.credentials ?? [], signal)
      case 'list':
        await verifyAuth(request.auth, 'list', '', now)
        // a client that holds no credential has no VMs to list
        if ((request.credentials ?? []).length > 0) await verifyDomainCredentials(request.credentials, { peer: client, now })
        return await handlers.list(request.auth, request.credentials ?? [], signal)
      default: {
        const unknown: never = request
        throw new Error(`unknown client request ${(unknown as { type: string }).type}`)
      }
    }
  }, limits)
}

/** The client's side: every request signed with the client's key, sent on the client's own connection. */
export class ShopClient {
  constructor (private readonly libp2p: Libp2p, private readonly shop: Multiaddr, private readonly key: PrivateKey) {}

  /** `credential`: the domain's credential for this client, which the plant checks; `onProgress` sees the create's steps */
  async create (spec: unknown, domain: string, credential: DomainCredential | undefined, options: ProgressOptions = {}): Promise<CreateResult> {
    const auth = await signCreate(this.key, spec, domain, Date.now(), credential?.key)
    return await this.send({ type: 'create', spec, domain, auth, ...(credential !== undefined ? { credential } : {}) }, createResultSchema, checkedProgress(options, 'the shop'))
  }

  /** `credentials`: the client's credentials; one of them must be for the VM's domain */
  async query (vmid: string, credentials: DomainCredential[], options: AbortOptions = {}): Promise<Classad> {
    return await this.send({ type: 'query', vmid, auth: await signAuth(this.key, 'query', vmid, Date.now()), credentials }, classadSchema, options)
  }

  async destroy (vmid: string, credentials: DomainCredential[], options: AbortOptions = {}): Promise<{ vmid: string, destroyed: true }> {
    return await this.send({ type: 'destroy', vmid, auth: await signAuth(this.key, 'destroy', vmid, Date.now()), credentials }, destroyResultSchema, options)
  }

  /** the VMs of the domains the credentials prove */
  async list (credentials: DomainCredential[], options: AbortOptions = {}): Promise<ListResult> {
    return await this.send({ type: 'list', auth: await signAuth(this.key, 'list', '', Date.now()), credentials }, listResultSchema, options)
  }

  private async send<S extends z.ZodType> (body: unknown, schema: S, options: AbortOptions & { onProgress?: (value: unknown) => void }): Promise<z.output<S>> {
    return await call(this.libp2p, this.shop, PROTOCOLS.client, body, schema, options)
  }
}
