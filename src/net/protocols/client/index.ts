import type { Multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import type { z } from 'zod'
import {
  classadSchema, clientRequestSchema, createResultSchema, destroyResultSchema, listResultSchema,
  type AbortOptions, type Auth, type Classad, type CreateResult, type ListResult
} from '../../../interface/index.js'
import type { VmplantLibp2p } from '../../node.js'
import { call, serve } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'
import { assertSender, signAuth, signCreate, verifyAuth, verifyCreate } from '../../auth.js'

/** What the shop does with a client's request; the edge has bound `owner` to the noise-authenticated peer and checked the signature. */
export interface ClientHandlers {
  create: (spec: unknown, domain: string, owner: string, auth: Auth, signal: AbortSignal) => Promise<CreateResult>
  query: (vmid: string, auth: Auth, signal: AbortSignal) => Promise<Classad>
  destroy: (vmid: string, auth: Auth, signal: AbortSignal) => Promise<{ vmid: string, destroyed: true }>
  list: (auth: Auth, signal: AbortSignal) => Promise<ListResult>
}

export interface ClientComponents { libp2p: VmplantLibp2p, clock: { now(): number } }

/** Registers the shop's side of `/vmplant/client`. */
export async function serveClients (components: ClientComponents, handlers: ClientHandlers): Promise<void> {
  await serve(components.libp2p, PROTOCOLS.client, clientRequestSchema, async (request, { remotePeer, signal }): Promise<unknown> => {
    const client = remotePeer.toString()
    assertSender(request.auth.owner, client, `${request.type} request's signature`)
    const now = components.clock.now()
    switch (request.type) {
      case 'create':
        await verifyCreate(request.auth, request.spec, request.domain, now)
        return await handlers.create(request.spec, request.domain, client, request.auth, signal)
      case 'query':
        await verifyAuth(request.auth, 'query', request.vmid, now)
        return await handlers.query(request.vmid, request.auth, signal)
      case 'destroy':
        await verifyAuth(request.auth, 'destroy', request.vmid, now)
        return await handlers.destroy(request.vmid, request.auth, signal)
      case 'list':
        await verifyAuth(request.auth, 'list', '', now)
        return await handlers.list(request.auth, signal)
      default: {
        const unknown: never = request
        throw new Error(`unknown client request ${(unknown as { type: string }).type}`)
      }
    }
  })
}

/** The client's side: every request signed with the client's key, sent on the client's own connection. */
export class ShopClient {
  constructor (private readonly libp2p: VmplantLibp2p, private readonly shop: Multiaddr, private readonly key: PrivateKey) {}

  async create (spec: unknown, domain: string, options: AbortOptions = {}): Promise<CreateResult> {
    return await this.send({ type: 'create', spec, domain, auth: await signCreate(this.key, spec, domain, Date.now()) }, createResultSchema, options)
  }

  async query (vmid: string, options: AbortOptions = {}): Promise<Classad> {
    return await this.send({ type: 'query', vmid, auth: await signAuth(this.key, 'query', vmid, Date.now()) }, classadSchema, options)
  }

  async destroy (vmid: string, options: AbortOptions = {}): Promise<{ vmid: string, destroyed: true }> {
    return await this.send({ type: 'destroy', vmid, auth: await signAuth(this.key, 'destroy', vmid, Date.now()) }, destroyResultSchema, options)
  }

  async list (options: AbortOptions = {}): Promise<ListResult> {
    return await this.send({ type: 'list', auth: await signAuth(this.key, 'list', '', Date.now()) }, listResultSchema, options)
  }

  private async send<S extends z.ZodType> (body: unknown, schema: S, options: AbortOptions): Promise<z.output<S>> {
    return await call(this.libp2p, this.shop, PROTOCOLS.client, body, schema, options)
  }
}
