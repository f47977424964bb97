import { homedir } from 'node:os'
import { dirname, join } from 'node:path'

/** Where the client's key lives unless --key says otherwise: $VMPLANT_HOME, else ~/.config/vmplant. */
export function defaultClientKeyFile (): string {
  const home = process.env.VMPLANT_HOME ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'vmplant')
  return join(home, 'client.key')
}

/**
 * The client's domain folder, beside its key: `domains/<client peer id>/` holds the keys of the
 * domains this client made (`<name>.key`, mode 0600) and the credentials it acts with
 * (`<name>.credential.json`). One folder per client identity, so that two keys kept side by
 * side never act in each other's domains.
 */
export function domainFolderOf (clientKeyFile: string, clientPeerId: string): string {
  return join(dirname(clientKeyFile), 'domains', clientPeerId)
}
