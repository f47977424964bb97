import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { z } from 'zod'
import {
  classadSchema, clientRequestSchema, createResultSchema, destroyResultSchema, listResultSchema,
  type AbortOptions, type Classad, type CreateResult, type DomainCredential, type Inbox, type ListResult, type ProgressOptions
} from '../../../interface/index.js'
import { call, serve, type ServeOptions } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'
import type { SigningEdgeComponents } from '../target.js'
import { checkedProgress } from '../progress.js'
import { signAuth, signCreate } from '../../auth.js'
import { clientCommand } from '../../commands.js'

export { AuthError } from '../../auth.js'

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
  /**
   * registers the shop's side: the signer must be the sending peer, the signature must verify, and
   * so must the domain credentials (early: the plant checks them again and decides, the shop only
   * passes them on); the shop gets `client.*` commands from that client, a create's progress sent
   * to the client ahead of the result
   */
  handle(inbox: Inbox): Promise<void>
  /** the client's side: requests to one shop, signed with `key` */
  shop(address: Multiaddr, key: PrivateKey): ShopClient
}

export const CLIENT_DEFAULTS = { timeoutMs: 900_000 } as const

export function clientProtocol (components: ClientProtocolComponents, init: ClientProtocolInit = {}): ClientProtocol {
  const limits = { timeoutMs: init.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs, ...(init.maxRequestsPerConnection !== undefined ? { maxInboundStreams: init.maxRequestsPerConnection } : {}) }
  return {
    handle: async (inbox) => { await serveClients(components, inbox, limits) },
    shop: (address, key) => new ShopClient(components.libp2p, address, key)
  }
}

async function serveClients (components: ClientProtocolComponents, inbox: Inbox, limits: ServeOptions): Promise<void> {
  await serve(components.libp2p, PROTOCOLS.client, clientRequestSchema, async (request, { remotePeer, signal, progress }): Promise<unknown> => {
    return await inbox.deliver(await clientCommand(request, remotePeer.toString(), components.clock.now(), progress), { signal })
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
