import type { Command } from 'commander'
import { defaultClientKeyFile } from '../identity.js'
import type { Output } from '../output.js'
import type { ClientOptions } from '../actions/client-actions.js'
import { loadBundled } from '../bundled.js'
import { originOf, ProfileOption } from './profile-options.js'

type Actions = typeof import('../actions/client-actions.js')

/** the implementation, loaded when a client command runs (light libp2p, the key, the domain folder): one bundled file when fresh */
const actions = async (): Promise<Actions> => await loadBundled('dist/src/cli/actions/client-actions.bundle.cjs', async (): Promise<Actions> => await import('../actions/client-actions.js'))

/** --shop, needed: from the flag, VMPLANT_SHOP or the profile */
export const shopOption = (example = '/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...'): ProfileOption => new ProfileOption('--shop <multiaddr>', `the shop to talk to, e.g. ${example}`, 'shop', true)
export const keyOption = (what = "the client's identity key, made on first use; its domains live beside it"): ProfileOption => new ProfileOption('--key <file>', `${what}; default: ${defaultClientKeyFile()}`, 'key')
export const pskOption = (what = 'its shop'): ProfileOption => new ProfileOption('--psk <file>', `a closed federation's swarm key (\`vmplant federation key\`), needed to reach ${what}`, 'psk')

/** the options as the action takes them: where --shop came from, for a message about it */
function withOrigin<T extends ClientOptions> (options: T, command: Command): T {
  return { ...options, shopFrom: originOf(command, 'shop') }
}

export function registerClientCommands (program: Command, out: Output): void {
  const credentialOption = ['--credential <file>', "a domain credential granted to this client (`vmplant domain grant`); default: the one in the client's domain folder"] as const
  const pickDomain = ['--domain <name>', 'send only the credential for this domain (default: every credential the client holds)'] as const

  program.command('create')
    .description('ask the shop for a VM built from a spec file (YAML or JSON); on a terminal, shows the steps and the time waited')
    .addOption(shopOption())
    .requiredOption('--spec <file>', 'the VM spec: hardware {memoryMB, os} and actions [{id, run, after}]; - reads it from standard input')
    .addOption(new ProfileOption('--domain <name>', "the domain to create in; its VMs share a host-only network on each plant. A domain this client has no key or credential for is made on first use, as its own (default: the --credential's domain, else \"default\")", 'domain'))
    .option(...credentialOption)
    .addOption(keyOption())
    .addOption(pskOption())
    .option('--json', 'print the classad and the bidding report as JSON')
    .option('--classad', 'print the classad in HTCondor ClassAd syntax')
    .action(async (options: ClientOptions & { spec: string, json?: boolean, classad?: boolean }, command: Command) => { await (await actions()).create(withOrigin(options, command), out) })

  program.command('query')
    .description('show the live classad of a VM in one of your domains')
    .argument('<vmid>', 'the VMID that create printed')
    .addOption(shopOption())
    .option(...pickDomain)
    .option(...credentialOption)
    .addOption(keyOption())
    .addOption(pskOption())
    .option('--classad', 'print in HTCondor ClassAd syntax instead of JSON')
    .action(async (vmid: string, options: ClientOptions & { classad?: boolean }, command: Command) => { await (await actions()).query(vmid, withOrigin(options, command), out) })

  program.command('destroy')
    .description('stop a VM in one of your domains and remove it')
    .argument('<vmid>', 'the VMID that create printed')
    .addOption(shopOption())
    .option(...pickDomain)
    .option(...credentialOption)
    .addOption(keyOption())
    .addOption(pskOption())
    .action(async (vmid: string, options: ClientOptions, command: Command) => { await (await actions()).destroy(vmid, withOrigin(options, command), out) })

  program.command('list')
    .description('list the VMs of your domains on every plant the shop knows')
    .addOption(shopOption())
    .option(...pickDomain)
    .option(...credentialOption)
    .addOption(keyOption())
    .addOption(pskOption())
    .option('--json', 'print JSON')
    .action(async (options: ClientOptions & { json?: boolean }, command: Command) => { await (await actions()).list(withOrigin(options, command), out) })
}
