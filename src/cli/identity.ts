import { homedir } from 'node:os'
import { join } from 'node:path'

/** Where the client's key lives unless --key says otherwise: $VMPLANT_HOME, else ~/.config/vmplant. */
export function defaultClientKeyFile (): string {
  const home = process.env.VMPLANT_HOME ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'vmplant')
  return join(home, 'client.key')
}
