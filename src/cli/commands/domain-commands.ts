import type { Command } from 'commander'
import { defaultClientKeyFile } from '../identity.js'
import type { Output } from '../output.js'
import { ProfileOption } from './profile-options.js'

/** the implementation, loaded when a domain command runs */
const actions = async (): Promise<typeof import('../actions/domain-actions.js')> => await import('../actions/domain-actions.js')

export function registerDomainCommands (program: Command, out: Output): void {
  const keyOption = (): ProfileOption => new ProfileOption('--key <file>', `the client's identity key; its domains live beside it; default: ${defaultClientKeyFile()}`, 'key')
  const domain = program.command('domain')
    .description("a client's domains: each is an Ed25519 key pair, and a VM is created, queried or destroyed in a domain only with a credential its key signed")

  domain.command('create')
    .description("make a domain's key (kept beside the client key, mode 0600) and print the domain's public id")
    .argument('<name>', 'the domain: lower-case letters, digits, "." and "-"')
    .addOption(keyOption())
    .action(async (name: string, options: { key?: string }) => { await (await actions()).createDomain(name, options, out) })

  domain.command('grant')
    .description('issue a credential: the domain key signs that a client peer may act in the domain until it expires')
    .argument('<name>', 'a domain this client made with `vmplant domain create`')
    .requiredOption('--client <peerid>', "the client's peer id (12D3Koo...; a client's own is printed by `vmplant domain list`)")
    .option('--expires <duration>', 'how long the credential lasts: 90s, 15m, 12h, 30d, 2w, 1y', '30d')
    .option('--out <file>', 'write the credential to this file (mode 0600) instead of printing it')
    .addOption(keyOption())
    .action(async (name: string, options: { client: string, expires: string, out?: string, key?: string }) => { await (await actions()).grant(name, options, out) })

  domain.command('import')
    .description("keep a credential granted to this client in its domain folder, so that create/query/destroy/list find it")
    .argument('<file>', 'the credential, as `vmplant domain grant` wrote it')
    .addOption(keyOption())
    .action(async (file: string, options: { key?: string }) => { await (await actions()).importCredential(file, options, out) })

  domain.command('list')
    .description("show this client's peer id and its domains: those it made, and those it holds a credential for")
    .addOption(keyOption())
    .option('--json', 'print JSON')
    .action(async (options: { key?: string, json?: boolean }) => { await (await actions()).listDomains(options, out) })
}
