import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { base64 } from 'multiformats/bases/base64'
import { AuthError, type Auth } from '../interface/index.js'
import { canonicalJson, sha256Hex, type Json } from '../planner/index.js'

export { AuthError }
export { DomainCredentialError, domainPublicId, signDomainCredential, verifyDomainCredential, verifyDomainCredentials, type CredentialCheck, type GrantInit } from './domain-credential.js'

/** A signed request older or newer than this is refused, which bounds replays. */
export const AUTH_MAX_SKEW_MS = 5 * 60_000

function payload (op: string, subject: string, ts: number): Uint8Array {
  return new TextEncoder().encode(`vmplant-auth-v1\n${op}\n${subject}\n${ts}`)
}

/**
 * What a create signature covers: the spec exactly as the client sent it, the domain and, when
 * the client names one, the domain's key, in canonical JSON so that the hash is the same whoever
 * re-encoded them.
 */
export function createSubject (spec: unknown, domain: string, domainKey?: string): string {
  return sha256Hex(canonicalJson({ spec: spec as Json, domain, ...(domainKey !== undefined ? { domainKey } : {}) }))
}

/** Signs an operation on a VM (or on all of the owner's VMs, with subject '') with the client's key. */
export async function signAuth (key: PrivateKey, op: string, subject: string, now: number): Promise<Auth> {
  const sig = await key.sign(payload(op, subject, now))
  return { owner: peerIdFromPrivateKey(key).toString(), ts: now, sig: base64.encode(sig) }
}

export async function signCreate (key: PrivateKey, spec: unknown, domain: string, now: number, domainKey?: string): Promise<Auth> {
  return await signAuth(key, 'create', createSubject(spec, domain, domainKey), now)
}

/** Checks that `auth` was signed by its owner for this operation, recently. Throws AuthError. */
export async function verifyAuth (auth: Auth, op: string, subject: string, now: number): Promise<void> {
  if (Math.abs(now - auth.ts) > AUTH_MAX_SKEW_MS) throw new AuthError(`signature time ${timeOf(auth.ts)} is too far from now`)
  let publicKey
  try {
    publicKey = peerIdFromString(auth.owner).publicKey
  } catch {
    throw new AuthError(`owner ${auth.owner} is not a peer id`)
  }
  if (publicKey === undefined) throw new AuthError(`owner ${auth.owner} does not embed its public key`)
  let sig: Uint8Array
  try {
    sig = base64.decode(auth.sig)
  } catch {
    throw new AuthError('signature is not base64')
  }
  let valid: boolean
  try {
    valid = await publicKey.verify(payload(op, subject, auth.ts), sig)
  } catch (err) {
    // a signature of the wrong length makes the key throw rather than answer false
    throw new AuthError(`signature of owner ${auth.owner} for ${op} is not a signature of its key (${sig.byteLength} bytes)`, { cause: err })
  }
  if (!valid) throw new AuthError(`signature does not match owner ${auth.owner} for ${op}`)
}

/** a time as ISO 8601; past the year 275760, which a Date cannot hold, as ms */
function timeOf (ms: number): string {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? `${ms} ms since 1970` : date.toISOString()
}

export async function verifyCreate (auth: Auth, spec: unknown, domain: string, now: number, domainKey?: string): Promise<void> {
  await verifyAuth(auth, 'create', createSubject(spec, domain, domainKey), now)
}

/** The edge's check that a request signed by a client comes from that client's own connection. */
export function assertSender (claimed: string, sender: string, what: string): void {
  if (claimed !== sender) throw new AuthError(`${what} names ${claimed} but comes from ${sender}`)
}
