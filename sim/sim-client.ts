import { createHash } from 'node:crypto'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { AbortOptions, Classad, ClientRequest, Clock, CreateResult, DestroyResult, DomainCredential, Inbox, ListResult, ProgressOptions } from '../src/interface/index.js'
import { signAuth, signCreate, signDomainCredential } from '../src/net/auth.js'
import { clientCommand } from '../src/net/commands.js'

/** A client's requests to the shop; they do not move the clock: the caller runs it. */
export interface SimClient {
  /** `owner`: which client asks, by a name of the caller's (each its own Ed25519 key); @default 'user' */
  create(spec: unknown, domain: string, owner?: string, options?: ProgressOptions): Promise<CreateResult>
  query(vmid: string, owner?: string): Promise<Classad>
  destroy(vmid: string, owner?: string): Promise<DestroyResult>
  list(owner?: string): Promise<ListResult>
  /** the peer id of a client by its name */
  peerOf(owner?: string): Promise<string>
}

/** a credential is issued for as long as a long run: a year of virtual time */
const CREDENTIAL_MS = 365 * 24 * 3600_000

/** an Ed25519 key drawn from the run's seed and a name, so that a run's peer ids are its seed's */
async function seededKey (seed: number, name: string): Promise<PrivateKey> {
  return await generateKeyPairFromSeed('Ed25519', createHash('sha256').update(`vmplant-sim:${seed}:${name}`).digest())
}

interface Client { key: PrivateKey, peer: string, credentials: Map<string, DomainCredential> }

/**
 * The simulator's clients, as the CLI is to a real shop: each signs its requests with its own key
 * and holds a real domain credential for each domain it creates in (the simulator holds every
 * domain's key, and grants one on the first create). Requests reach the shop as the same commands,
 * checked by the same code, as the libp2p client edge gives it.
 */
export function simClients (init: { clock: Clock, shop: Inbox, seed: number }): SimClient {
  const { clock, shop, seed } = init
  const clients = new Map<string, Promise<Client>>()
  const domainKeys = new Map<string, Promise<PrivateKey>>()
  const client = async (name: string): Promise<Client> => {
    let made = clients.get(name)
    if (made === undefined) {
      made = seededKey(seed, `client:${name}`).then((key) => ({ key, peer: peerIdFromPrivateKey(key).toString(), credentials: new Map() }))
      clients.set(name, made)
    }
    return await made
  }
  const credentialFor = async (c: Client, domain: string): Promise<DomainCredential> => {
    const held = c.credentials.get(domain)
    if (held !== undefined) return held
    let key = domainKeys.get(domain)
    if (key === undefined) domainKeys.set(domain, key = seededKey(seed, `domain:${domain}`))
    const now = clock.now()
    const credential = await signDomainCredential(await key, { domain, client: c.peer, issuedAt: now, expiresAt: now + CREDENTIAL_MS })
    c.credentials.set(domain, credential)
    return credential
  }
  const send = async (c: Client, request: ClientRequest, options: ProgressOptions & AbortOptions = {}): Promise<unknown> =>
    await shop.deliver(await clientCommand(request, c.peer, clock.now(), (event) => { options.onProgress?.(event) }), options)
  const held = (c: Client): DomainCredential[] => [...c.credentials.values()]
  return {
    create: async (spec, domain, owner = 'user', options = {}) => {
      const c = await client(owner)
      const credential = await credentialFor(c, domain)
      const auth = await signCreate(c.key, spec, domain, clock.now(), credential.key)
      return await send(c, { type: 'create', spec, domain, auth, credential }, options) as CreateResult
    },
    query: async (vmid, owner = 'user') => {
      const c = await client(owner)
      return await send(c, { type: 'query', vmid, auth: await signAuth(c.key, 'query', vmid, clock.now()), credentials: held(c) }) as Classad
    },
    destroy: async (vmid, owner = 'user') => {
      const c = await client(owner)
      return await send(c, { type: 'destroy', vmid, auth: await signAuth(c.key, 'destroy', vmid, clock.now()), credentials: held(c) }) as DestroyResult
    },
    list: async (owner = 'user') => {
      const c = await client(owner)
      return await send(c, { type: 'list', auth: await signAuth(c.key, 'list', '', clock.now()), credentials: held(c) }) as ListResult
    },
    peerOf: async (owner = 'user') => (await client(owner)).peer
  }
}
