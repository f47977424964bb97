import type { PeerId } from '@libp2p/interface'
import { domainCredentialSchema, DomainCredentialError, type DomainRef } from '../../../interface/index.js'
import { verifyDomainCredential } from '../../domain-credential.js'

/**
 * The plant's `authorize` for tunnels: the credential must be a domain credential, signed by the
 * domain's key, for the peer at the other end of the stream, and not expired.
 */
export function credentialAuthorizer (clock: { now(): number }): (credential: unknown, remotePeer: PeerId) => Promise<DomainRef> {
  return async (credential, remotePeer) => {
    const parsed = domainCredentialSchema.safeParse(credential)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new DomainCredentialError('bad-signature', `the credential is not a domain credential${issue !== undefined && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}`)
    }
    return await verifyDomainCredential(parsed.data, { peer: remotePeer.toString(), now: clock.now() })
  }
}
