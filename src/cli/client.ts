import { multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import type { z, ZodType } from 'zod'
import { createNode, type VmplantLibp2p } from '../net/node.js'
import { call } from '../net/rpc.js'
import { signAuth } from '../net/auth.js'
import { PROTOCOLS } from '../net/protocols.js'
import { classadSchema, createResultSchema, destroyResultSchema, listResultSchema, type Classad, type CreateResult, type ListResult } from '../net/wire.js'
import type { AbortOptions } from '../hypervisor/index.js'

export interface ClientInit {
  /** the shop's multiaddr, with /p2p/<id> */
  shop: string
  /** the client's identity; its peer id owns the VMs it creates */
  privateKey: PrivateKey
  /** @default 300000 */
  timeoutMs?: number
}

/** Talks to a shop over libp2p. Query, destroy and list are signed with the client's key. */
export class VmplantClient {
  private node?: VmplantLibp2p

  constructor (private readonly init: ClientInit) {
    multiaddr(init.shop)
  }

  async start (): Promise<void> {
    if (this.node !== undefined) return
    this.node = await createNode({ privateKey: this.init.privateKey, listen: [], logPrefix: 'vmplant:client' })
    await this.node.start()
  }

  async stop (): Promise<void> {
    await this.node?.stop()
    this.node = undefined
  }

  get peerId (): string {
    return this.started().peerId.toString()
  }

  async create (spec: unknown, domain: string, options: AbortOptions = {}): Promise<CreateResult> {
    return await this.request({ type: 'create', spec, domain }, createResultSchema, options)
  }

  async query (vmid: string, options: AbortOptions = {}): Promise<Classad> {
    return await this.request({ type: 'query', vmid, auth: await signAuth(this.init.privateKey, 'query', vmid, Date.now()) }, classadSchema, options)
  }

  async destroy (vmid: string, options: AbortOptions = {}): Promise<{ vmid: string, destroyed: true }> {
    return await this.request({ type: 'destroy', vmid, auth: await signAuth(this.init.privateKey, 'destroy', vmid, Date.now()) }, destroyResultSchema, options)
  }

  async list (options: AbortOptions = {}): Promise<ListResult> {
    return await this.request({ type: 'list', auth: await signAuth(this.init.privateKey, 'list', '', Date.now()) }, listResultSchema, options)
  }

  private async request<S extends ZodType> (body: unknown, schema: S, options: AbortOptions): Promise<z.output<S>> {
    const timeout = AbortSignal.timeout(this.init.timeoutMs ?? 300_000)
    const signal = options.signal !== undefined ? AbortSignal.any([options.signal, timeout]) : timeout
    return await call(this.started(), multiaddr(this.init.shop), PROTOCOLS.client, body, schema, { signal })
  }

  private started (): VmplantLibp2p {
    if (this.node === undefined) throw new Error('client is not started')
    return this.node
  }
}
