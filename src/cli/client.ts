import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { createLightNode } from '../net/light-node.js'
import { clientProtocol, type ShopClient } from '../net/protocols/client/index.js'
import { errorMessage, type AbortOptions, type Classad, type CreateProgress, type CreateResult, type DomainCredential, type ListResult } from '../interface/index.js'
import { ephemeralDomains, type DomainCredentials } from './domain-folder.js'
import { RemoteError } from '../net/errors.js'
import { ShopUnreachableError } from './errors.js'

export interface ClientInit {
  /** the shop's multiaddr, with /p2p/<id> */
  shop: string
  /** the client's identity; its peer id owns the VMs it creates */
  privateKey: PrivateKey
  /** @default 300000 */
  timeoutMs?: number
  /** where the domain credentials come from; @default domains of this client alone, made in memory on first use */
  domains?: DomainCredentials
  /** a closed federation's swarm key (`readSwarmKey`): without it, its shop cannot be reached */
  psk?: Uint8Array
  /** sees each request's steps, for a person watching a long create */
  onEvent?: (event: ClientEvent) => void
}

/** A request's steps as the client sees them: its connection, and a create's steps as the shop and the plant report them. */
export type ClientEvent =
  | { type: 'connecting' }
  | { type: 'connected', ms: number }
  | { type: 'answered', ok: boolean }
  /** a step of a create, from the shop or from the plant making the VM */
  | { type: 'progress', event: CreateProgress }

/** A create in a domain names the credential it uses: by default the one the client's domains hold for that name. */
export interface CreateOptions extends AbortOptions { credential?: DomainCredential }
/** A query, destroy or list sends credentials: by default every one the client's domains hold. */
export interface CredentialsOptions extends AbortOptions { credentials?: DomainCredential[] }

/**
 * Talks to a shop over a light libp2p node (`src/net/light-node.ts`: TCP, noise, yamux, dialling
 * the shop directly). Every request is signed with the client's key.
 */
export class VmplantClient {
  private node?: Libp2p
  private shop?: ShopClient
  private readonly domains: DomainCredentials
  /** the shop's address, parsed once: a bad one fails the constructor */
  private readonly shopAddr: Multiaddr

  constructor (private readonly init: ClientInit) {
    this.shopAddr = multiaddr(init.shop)
    this.domains = init.domains ?? ephemeralDomains(init.privateKey)
  }

  async start (): Promise<void> {
    if (this.node !== undefined) return
    this.node = await createLightNode({ privateKey: this.init.privateKey, ...(this.init.psk !== undefined ? { federation: { psk: this.init.psk } } : {}) })
    await this.node.start()
    this.shop = clientProtocol({ libp2p: this.node, clock: { now: Date.now } }).shop(this.shopAddr, this.init.privateKey)
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
    const onEvent = this.init.onEvent
    const onProgress = onEvent !== undefined ? (event: CreateProgress) => { onEvent({ type: 'progress', event }) } : undefined
    return await this.reach(async () => credential, async (shop, bounded) => await shop.create(spec, domain, credential, { ...bounded, onProgress }), options)
  }

  async query (vmid: string, options: CredentialsOptions = {}): Promise<Classad> {
    return await this.reach(async () => options.credentials ?? await this.domains.all(), async (shop, bounded, credentials) => await shop.query(vmid, credentials, bounded), options)
  }

  async destroy (vmid: string, options: CredentialsOptions = {}): Promise<{ vmid: string, destroyed: true }> {
    return await this.reach(async () => options.credentials ?? await this.domains.all(), async (shop, bounded, credentials) => await shop.destroy(vmid, credentials, bounded), options)
  }

  async list (options: CredentialsOptions = {}): Promise<ListResult> {
    return await this.reach(async () => options.credentials ?? await this.domains.all(), async (shop, bounded, credentials) => await shop.list(credentials, bounded), options)
  }

  /**
   * Connects to the shop and, meanwhile, runs `prepare` (reading the domain folder's credentials
   * while the handshake waits on the shop); then runs `work` with what it gave. An error of
   * `prepare` wins over the dial's, as when it ran first. A shop that cannot be reached, or that
   * drops the connection at once (a closed federation's swarm key or allowlist), is named as such.
   */
  private async reach<A, T> (prepare: () => Promise<A>, work: (shop: ShopClient, options: AbortOptions, prepared: A) => Promise<T>, options: AbortOptions): Promise<T> {
    const shop = this.started()
    const node = this.node as Libp2p
    const emit = this.init.onEvent ?? (() => {})
    const bounded = this.bounded(options)
    const addr = this.shopAddr
    const hint = this.init.psk === undefined ? 'if it is a closed federation, give its swarm key (--psk)' : 'is this the federation\'s swarm key, and is this client on the shop\'s allowlist?'
    let connection
    const dialled = performance.now()
    // the client's one peer is the shop: a connection open already is reused, and not news
    const fresh = node.getConnections().length === 0
    if (fresh) emit({ type: 'connecting' })
    const dialling = node.dial(addr, bounded)
    // awaited below, after `prepare`; one left behind by prepare's error is ended by stop()
    dialling.catch(() => {})
    const prepared = await prepare()
    try {
      connection = await dialling
    } catch (err: unknown) {
      throw new ShopUnreachableError(`cannot reach the shop at ${this.init.shop}: ${errorMessage(err)}; ${hint}`, { cause: err })
    }
    if (fresh) emit({ type: 'connected', ms: performance.now() - dialled })
    try {
      const answer = await work(shop, bounded, prepared)
      emit({ type: 'answered', ok: true })
      return answer
    } catch (err: unknown) {
      emit({ type: 'answered', ok: false })
      if (!(err instanceof RemoteError) && connection.status !== 'open') throw new ShopUnreachableError(`cannot reach the shop at ${this.init.shop}: it closed the connection${err instanceof Error ? ` (${err.message})` : ''}; ${hint}`, { cause: err })
      throw err
    }
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
