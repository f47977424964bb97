import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { domainCredentialSchema, domainSchema, type DomainCredential } from '../interface/messages.js'
import { domainPublicId, signDomainCredential, verifyDomainCredential } from '../net/auth.js'
import { writeFileDurably } from '../fs/index.js'
import { DomainExistsError, UsageError } from './errors.js'
import { errorCode } from '../interface/index.js'

/** Where a client gets its domain credentials from. */
export interface DomainCredentials {
  /** the credential to create a VM in domain `name` with */
  forDomain(name: string): Promise<DomainCredential>
  /** every credential the client holds; a query, destroy or list sends them, and a VM is reached through the one for its domain */
  all(): Promise<DomainCredential[]>
}

/** How long a credential a client grants itself for a domain it holds the key of lasts; renewed when it runs out. */
export const SELF_GRANT_MS = 30 * 86_400_000

export interface DomainEntry {
  name: string
  /** the domain's public id, when this client holds the domain's key */
  owned?: string
  /** the credential this client acts with in the domain */
  credential?: DomainCredential
}

function checkName (name: string): string {
  const parsed = domainSchema.safeParse(name)
  if (!parsed.success) throw new UsageError(`domain "${name}" ${parsed.error.issues[0]?.message ?? 'is invalid'}`)
  return name
}

async function readIfExists (file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file)
  } catch (err: unknown) {
    if (errorCode(err) === 'ENOENT') return undefined
    throw err
  }
}

/** Parses a credential file; a file that is not one is named in the error. */
export function parseCredential (text: string, file: string): DomainCredential {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new UsageError(`${file} is not JSON, so not a domain credential`)
  }
  const parsed = domainCredentialSchema.safeParse(json)
  if (!parsed.success) throw new UsageError(`${file} is not a domain credential: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`)
  return parsed.data
}

/**
 * A client's domain folder (see domainFolderOf): the domains it made and the credentials it
 * holds. A domain named for a create that the folder does not know is made on first use, like
 * the client key, so that no create needs a manual step; its name is then this client's alone.
 */
export class DomainFolder implements DomainCredentials {
  readonly client: string

  constructor (readonly dir: string, clientKey: PrivateKey, private readonly note: (line: string) => void = () => {}, private readonly now: () => number = Date.now) {
    this.client = peerIdFromPrivateKey(clientKey).toString()
  }

  private keyFile (name: string): string { return join(this.dir, `${checkName(name)}.key`) }
  private credentialFile (name: string): string { return join(this.dir, `${checkName(name)}.credential.json`) }

  /** Makes a domain's key; refuses to replace one. Returns the domain's public id. */
  async create (name: string): Promise<string> {
    const file = this.keyFile(name)
    const held = await this.credential(name)
    if (held !== undefined && held.key !== await this.publicId(name)) throw new UsageError(`this client acts in another client's domain ${name} (${held.key}); give your own domain another name`)
    const key = await generateKeyPair('Ed25519')
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    try {
      await writeFileDurably(file, privateKeyToProtobuf(key), { mode: 0o600, exclusive: true })
    } catch (err: unknown) {
      if (errorCode(err) === 'EEXIST') throw new DomainExistsError(`domain ${name} already exists (${await this.publicId(name)}); its key ${file} is kept`)
      throw err
    }
    return domainPublicId(key)
  }

  async key (name: string): Promise<PrivateKey | undefined> {
    const bytes = await readIfExists(this.keyFile(name))
    if (bytes === undefined) return undefined
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new UsageError(`${this.keyFile(name)} does not hold a domain key`)
    }
  }

  async publicId (name: string): Promise<string | undefined> {
    const key = await this.key(name)
    return key === undefined ? undefined : domainPublicId(key)
  }

  /** Issues a credential of domain `name` (whose key this folder holds) for `client`. */
  async grant (name: string, client: string, validForMs: number): Promise<DomainCredential> {
    const key = await this.key(name)
    if (key === undefined) throw new UsageError(`this client holds no key for domain ${name}; make one with \`vmplant domain create ${name}\``)
    const issuedAt = this.now()
    return await signDomainCredential(key, { domain: name, client, issuedAt, expiresAt: issuedAt + validForMs })
  }

  /** Keeps a credential granted to this client, after checking it, as the one it acts with in its domain. */
  async import (credential: DomainCredential): Promise<void> {
    await verifyDomainCredential(credential, { peer: this.client, now: this.now() })
    const own = await this.publicId(credential.domain)
    if (own !== undefined && own !== credential.key) throw new UsageError(`this client already has its own domain ${credential.domain} (${own}); the credential is for another domain of that name (${credential.key})`)
    await this.save(credential)
  }

  async credential (name: string): Promise<DomainCredential | undefined> {
    const file = this.credentialFile(name)
    const text = await readIfExists(file)
    return text === undefined ? undefined : parseCredential(text.toString('utf8'), file)
  }

  async forDomain (name: string): Promise<DomainCredential> {
    const held = await this.credential(name)
    const own = await this.publicId(name)
    if (held !== undefined && this.usable(held, own)) return held
    if (own === undefined) {
      try {
        this.note(`made domain ${name} (${await this.create(name)}) on first use; it is this client's own: another client's domain ${name} is another domain`)
      } catch (err) {
        // another command made it a moment ago: use that one
        if (!(err instanceof DomainExistsError)) throw err
      }
    }
    const granted = await this.grant(name, this.client, SELF_GRANT_MS)
    await this.save(granted)
    return granted
  }

  /**
   * Whether a held credential is the one to act with: one for another client's domain is sent even
   * when expired (the plant decides, and says so); one for a domain whose key this client holds
   * (`own`, its public id) is renewed when it ran out or was made for another key.
   */
  private usable (held: DomainCredential, own: string | undefined): boolean {
    return own === undefined || (held.key === own && held.expiresAt > this.now())
  }

  /** The credential for domain `name` if the client holds one or the domain's key; unlike forDomain, never makes a domain. */
  async held (name: string): Promise<DomainCredential | undefined> {
    if (await this.publicId(name) === undefined) return await this.credential(name)
    return await this.forDomain(name)
  }

  async all (): Promise<DomainCredential[]> {
    const credentials: DomainCredential[] = []
    for (const entry of await this.list()) {
      // the entry read them already: forDomain only for a credential to make or renew
      if (entry.credential !== undefined && this.usable(entry.credential, entry.owned)) credentials.push(entry.credential)
      else if (entry.owned !== undefined) credentials.push(await this.forDomain(entry.name))
    }
    // an expired credential would make the whole request fail; it is sent only when its domain is named
    return credentials.filter((c) => c.expiresAt > this.now())
  }

  async list (): Promise<DomainEntry[]> {
    let files: string[]
    try {
      files = await readdir(this.dir)
    } catch (err: unknown) {
      if (errorCode(err) === 'ENOENT') return []
      throw err
    }
    const names = [...new Set(files.map((f) => /^(.+?)(\.key|\.credential\.json)$/.exec(f)?.[1]).filter((n): n is string => n !== undefined && domainSchema.safeParse(n).success))].sort()
    const entries: DomainEntry[] = []
    for (const name of names) {
      const owned = await this.publicId(name)
      const credential = await this.credential(name)
      entries.push({ name, ...(owned !== undefined ? { owned } : {}), ...(credential !== undefined ? { credential } : {}) })
    }
    return entries
  }

  private async save (credential: DomainCredential): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await writeFileDurably(this.credentialFile(credential.domain), JSON.stringify(credential, null, 2) + '\n', { mode: 0o600 })
  }
}

/**
 * Domains kept in memory: a key made per domain name on first use and granted to the client.
 * What a VmplantClient uses unless it is given a folder: each such client's domains are its own.
 */
export function ephemeralDomains (clientKey: PrivateKey): DomainCredentials {
  const client = peerIdFromPrivateKey(clientKey).toString()
  // promises, so that concurrent creates in a new domain share its one key
  const keys = new Map<string, Promise<PrivateKey>>()
  const credentials = new Map<string, Promise<DomainCredential>>()
  const forDomain = async (name: string): Promise<DomainCredential> => {
    checkName(name)
    const known = credentials.get(name)
    if (known !== undefined && (await known).expiresAt > Date.now()) return await known
    let key = keys.get(name)
    if (key === undefined) {
      key = generateKeyPair('Ed25519')
      keys.set(name, key)
    }
    const issuedAt = Date.now()
    const granted = key.then(async (k) => await signDomainCredential(k, { domain: name, client, issuedAt, expiresAt: issuedAt + SELF_GRANT_MS }))
    credentials.set(name, granted)
    return await granted
  }
  return {
    forDomain,
    all: async () => await Promise.all([...credentials.keys()].map(forDomain))
  }
}
