import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { base64 } from 'multiformats/bases/base64'
import type { Auth } from './wire.js'

/** A signed request older or newer than this is refused, which bounds replays. */
export const AUTH_MAX_SKEW_MS = 5 * 60_000

export class AuthError extends Error {
  static override name = 'AuthError'
  constructor (message: string) {
    super(message)
    this.name = AuthError.name
  }
}

function payload (op: string, vmid: string, ts: number): Uint8Array {
  return new TextEncoder().encode(`vmplant-auth-v1\n${op}\n${vmid}\n${ts}`)
}

/** Signs an operation on a VM (or on all of the owner's VMs, with vmid '') with the client's key. */
export async function signAuth (key: PrivateKey, op: string, vmid: string, now: number): Promise<Auth> {
  const sig = await key.sign(payload(op, vmid, now))
  return { owner: peerIdFromPrivateKey(key).toString(), ts: now, sig: base64.encode(sig) }
}

/** Checks that `auth` was signed by its owner for this operation, recently. Throws AuthError. */
export async function verifyAuth (auth: Auth, op: string, vmid: string, now: number): Promise<void> {
  if (Math.abs(now - auth.ts) > AUTH_MAX_SKEW_MS) throw new AuthError(`signature time ${new Date(auth.ts).toISOString()} is too far from now`)
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
  if (!(await publicKey.verify(payload(op, vmid, auth.ts), sig))) throw new AuthError(`signature does not match owner ${auth.owner}`)
}
