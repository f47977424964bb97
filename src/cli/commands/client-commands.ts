import type { Command } from 'commander'
import { defaultClientKeyFile } from '../identity.js'
import type { Output } from '../output.js'
import type { ClientOptions } from '../actions/client-actions.js'
import { loadBundled } from '../bundled.js'

type Actions = typeof import('../actions/client-actions.js')

/** the implementation, loaded when a client command runs (light libp2p, the key, the domain folder): one bundled file when fresh */
const actions = async (): Promise<Actions> => await loadBundled('dist/src/cli/actions/client-actions.bundle.cjs', async (): Promise<Actions> => await import('../actions/client-actions.js'))

export function registerClientCommands (program: Command, out: Output): void {
  const shopOption = ['--shop <multiaddr>', 'the shop to talk to, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...'] as const
  const keyOption = ['--key <file>', `the client's identity key, made on first use; its domains live beside it (default: ${defaultClientKeyFile()})`] as const
  const credentialOption = ['--credential <file>', "a domain credential granted to this client (`vmplant domain grant`); default: the one in the client's domain folder"] as const
  const pickDomain = ['--domain <name>', 'send only the credential for this domain (default: every credential the client holds)'] as const
  const pskOption = ['--psk <file>', "a closed federation's swarm key (`vmplant federation key`), needed to reach its shop"] as const

  program.command('create')
    .description('ask the shop for a VM built from a spec file (YAML or JSON); on a terminal, shows the steps and the time waited')
    .requiredOption(...shopOption)
    .requiredOption('--spec <file>', 'the VM spec: hardware {memoryMB, os} and actions [{id, run, after}]')
    .option('--domain <name>', "the domain to create in; its VMs share a host-only network on each plant. A domain this client has no key or credential for is made on first use, as its own (default: the --credential's domain, else \"default\")")
    .option(...credentialOption)
    .option(...keyOption)
    .option(...pskOption)
    .option('--json', 'print the classad and the bidding report as JSON')
    .option('--classad', 'print the classad in HTCondor ClassAd syntax')
    .action(async (options: ClientOptions & { spec: string, json?: boolean, classad?: boolean }) => { await (await actions()).create(options, out) })

  program.command('query')
    .description('show the live classad of a VM in one of your domains')
    .argument('<vmid>', 'the VMID that create printed')
    .requiredOption(...shopOption)
    .option(...pickDomain)
    .option(...credentialOption)
    .option(...keyOption)
    .option(...pskOption)
    .option('--classad', 'print in HTCondor ClassAd syntax instead of JSON')
    .action(async (vmid: string, options: ClientOptions & { classad?: boolean }) => { await (await actions()).query(vmid, options, out) })

  program.command('destroy')
    .description('stop a VM in one of your domains and remove it')
    .argument('<vmid>', 'the VMID that create printed')
    .requiredOption(...shopOption)
    .option(...pickDomain)
    .option(...credentialOption)
    .option(...keyOption)
    .option(...pskOption)
    .action(async (vmid: string, options: ClientOptions) => { await (await actions()).destroy(vmid, options, out) })

  program.command('list')
    .description('list the VMs of your domains on every plant the shop knows')
    .requiredOption(...shopOption)
    .option(...pickDomain)
    .option(...credentialOption)
    .option(...keyOption)
    .option(...pskOption)
    .option('--json', 'print JSON')
    .action(async (options: ClientOptions & { json?: boolean }) => { await (await actions()).list(options, out) })
}
