import { multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import { createNode, type VmplantLibp2p } from '../net/node.js'
import { clientProtocol, type ShopClient } from '../net/protocols/client/index.js'
import type { AbortOptions, Classad, CreateResult, DomainCredential, ListResult } from '../interface/index.js'
import { ephemeralDomains, type DomainCredentials } from './domain-folder.js'

export interface ClientInit {
  /** the shop's multiaddr, with /p2p/<id> */
  shop: string
  /** the client's identity; its peer id owns the VMs it creates */
  privateKey: PrivateKey
  /** @default 300000 */
  timeoutMs?: number
  /** where the domain credentials come from; @default domains of this client alone, made in memory on first use */
  domains?: DomainCredentials
}

/** A create in a domain names the credential it uses: by default the one the client's domains hold for that name. */
export interface CreateOptions extends AbortOptions { credential?: DomainCredential }
/** A query, destroy or list sends credentials: by default every one the client's domains hold. */
export interface CredentialsOptions extends AbortOptions { credentials?: DomainCredential[] }

/** Talks to a shop over libp2p. Every request is signed with the client's key. */
export class VmplantClient {
  private node?: VmplantLibp2p
  private shop?: ShopClient
  private readonly domains: DomainCredentials

  constructor (private readonly init: ClientInit) {
    multiaddr(init.shop)
    this.domains = init.domains ?? ephemeralDomains(init.privateKey)
  }

  async start (): Promise<void> {
    if (this.node !== undefined) return
    this.node = await createNode({ privateKey: this.init.privateKey, listen: [], logPrefix: 'vmplant:client' })
    await this.node.start()
    this.shop = clientProtocol({ libp2p: this.node, clock: { now: Date.now } }).shop(multiaddr(this.init.shop), this.init.privateKey)
  }

  async stop (): Promise<void> {
    await this.node?.stop()
    this.node = undefined
    this.shop = undefined
  }

  get peerId (): string {
    if (this.node === undefined) throw new Error('client is not started')
    return this.node.peerId.toString()
  }

  async create (spec: unknown, domain: string, options: CreateOptions = {}): Promise<CreateResult> {
    const credential = options.credential ?? await this.domains.forDomain(domain)
    return await this.started().create(spec, domain, credential, this.bounded(options))
  }

  async query (vmid: string, options: CredentialsOptions = {}): Promise<Classad> {
    return await this.started().query(vmid, options.credentials ?? await this.domains.all(), this.bounded(options))
  }

  async destroy (vmid: string, options: CredentialsOptions = {}): Promise<{ vmid: string, destroyed: true }> {
    return await this.started().destroy(vmid, options.credentials ?? await this.domains.all(), this.bounded(options))
  }

  async list (options: CredentialsOptions = {}): Promise<ListResult> {
    return await this.started().list(options.credentials ?? await this.domains.all(), this.bounded(options))
  }

  private bounded (options: AbortOptions): AbortOptions {
    const timeout = AbortSignal.timeout(this.init.timeoutMs ?? 300_000)
    return { signal: options.signal !== undefined ? AbortSignal.any([options.signal, timeout]) : timeout }
  }

  private started (): ShopClient {
    if (this.shop === undefined) throw new Error('client is not started')
    return this.shop
  }
}
