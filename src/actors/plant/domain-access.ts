import { DomainCredentialError, type Classad, type DomainRef } from '../../interface/index.js'

/** True when the client reaches this VM: through a credential (verified at the edge) for the VM's domain, name and key. */
export function inDomains (classad: Classad, domains: DomainRef[]): boolean {
  return domains.some((d) => d.name === classad.domain && d.key === classad.domainKey)
}

/** Throws unless the client reaches the VM; the error says which domain the VM is in and which the credentials were for. */
export function domainAccess (classad: Classad, domains: DomainRef[]): void {
  if (inDomains(classad, domains)) return
  const held = domains.map((d) => `${d.name} (${d.key})`).join(', ')
  throw new DomainCredentialError(domains.length === 0 ? 'missing' : 'domain-mismatch',
    `VM ${classad.vmid} is in domain ${classad.domain}${classad.domainKey !== undefined ? ` (${classad.domainKey})` : ''}, and no credential for it was given${held !== '' ? `; the credentials are for ${held}` : ''}`)
}
