import { homedir } from 'node:os'
import { dirname, join } from 'node:path'

/** The client's folder: $VMPLANT_HOME, else $XDG_CONFIG_HOME/vmplant, else ~/.config/vmplant. */
export function clientHome (): string {
  return process.env.VMPLANT_HOME ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'vmplant')
}

/** Where the client's key lives unless --key (or the profile) says otherwise: client.key in clientHome(). */
export function defaultClientKeyFile (): string {
  return join(clientHome(), 'client.key')
}

/** The profile: defaults for the options every client command repeats (src/cli/profile.ts), config.yaml in clientHome(). */
export function profileFile (): string {
  return join(clientHome(), 'config.yaml')
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
