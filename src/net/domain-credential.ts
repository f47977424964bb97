import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { base64 } from 'multiformats/bases/base64'
import { DomainCredentialError, type DomainCredential, type DomainRef } from '../interface/index.js'
import { canonicalJson, type Json } from '../planner/index.js'

export { DomainCredentialError }

/** What a domain key signs: every field of the credential but the signature, in canonical JSON. */
function payload (credential: Omit<DomainCredential, 'sig'>): Uint8Array {
  const { type, domain, key, client, issuedAt, expiresAt } = credential
  return new TextEncoder().encode(`vmplant-domain-credential-v1\n${canonicalJson({ type, domain, key, client, issuedAt, expiresAt } satisfies Json)}`)
}

export interface GrantInit {
  domain: string
  /** the client's peer id */
  client: string
  issuedAt: number
  expiresAt: number
}

/** The domain's public id: the peer id of its Ed25519 key. */
export function domainPublicId (domainKey: PrivateKey): string {
  return peerIdFromPrivateKey(domainKey).toString()
}

/** Issues a credential: the domain key signs that `client` may act in `domain` until `expiresAt`. */
export async function signDomainCredential (domainKey: PrivateKey, init: GrantInit): Promise<DomainCredential> {
  if (domainKey.type !== 'Ed25519') throw new DomainCredentialError('bad-signature', `a domain key must be Ed25519, not ${domainKey.type}`)
  if (init.expiresAt <= init.issuedAt) throw new RangeError(`a credential must expire after it is issued (${init.expiresAt} <= ${init.issuedAt})`)
  const unsigned = { type: 'domain.credential' as const, domain: init.domain, key: domainPublicId(domainKey), client: init.client, issuedAt: init.issuedAt, expiresAt: init.expiresAt }
  const sig = await domainKey.sign(payload(unsigned))
  return { ...unsigned, sig: base64.encode(sig) }
}

export interface CredentialCheck {
  /** the client acting: the noise-authenticated peer, or the client whose signature the edge verified */
  peer: string
  /** now, from the edge's clock */
  now: number
  /** the domain the request names, when it names one */
  domain?: string
}

/**
 * Checks a domain credential: signed by the domain key it names, for `peer`, not expired, and for
 * the request's domain. Returns the domain it proves; throws DomainCredentialError naming why not.
 */
export async function verifyDomainCredential (credential: DomainCredential | undefined, check: CredentialCheck): Promise<DomainRef> {
  if (credential === undefined) throw new DomainCredentialError('missing', `no credential for ${check.domain !== undefined ? `domain ${check.domain}` : 'the domain'} was given; the domain's owner issues one with \`vmplant domain grant\``)
  const what = `the credential for domain ${credential.domain} (${credential.key})`
  let publicKey
  try {
    publicKey = peerIdFromString(credential.key).publicKey
  } catch {
    throw new DomainCredentialError('bad-signature', `${what} names a key that is not a peer id`)
  }
  if (publicKey?.type !== 'Ed25519') throw new DomainCredentialError('bad-signature', `${what} does not name an Ed25519 key`)
  let sig: Uint8Array
  try {
    sig = base64.decode(credential.sig)
  } catch {
    throw new DomainCredentialError('bad-signature', `${what} has a signature that is not base64`)
  }
  let valid: boolean
  try {
    valid = await publicKey.verify(payload(credential), sig)
  } catch (err) {
    // a signature of the wrong length makes the key throw rather than answer false
    throw new DomainCredentialError('bad-signature', `${what} has a signature that is not an Ed25519 signature (${sig.byteLength} bytes)`, { cause: err })
  }
  if (!valid) throw new DomainCredentialError('bad-signature', `${what} is not signed by the domain's key`)
  if (credential.client !== check.peer) throw new DomainCredentialError('other-client', `${what} is for client ${credential.client}, not for ${check.peer}`)
  if (check.now >= credential.expiresAt) throw new DomainCredentialError('expired', `${what} expired at ${new Date(credential.expiresAt).toISOString()}`)
  if (check.domain !== undefined && credential.domain !== check.domain) throw new DomainCredentialError('domain-mismatch', `the request is for domain ${check.domain} but ${what} is for another domain`)
  return { name: credential.domain, key: credential.key }
}

/** Checks every credential a query, destroy or list carries (at least one); returns the domains they prove. */
export async function verifyDomainCredentials (credentials: DomainCredential[] | undefined, check: Omit<CredentialCheck, 'domain'>): Promise<DomainRef[]> {
  if (credentials === undefined || credentials.length === 0) throw new DomainCredentialError('missing', 'no domain credential was given: a VM is reached only through a credential for its domain')
  const domains: DomainRef[] = []
  for (const credential of credentials) domains.push(await verifyDomainCredential(credential, check))
  return domains
}
