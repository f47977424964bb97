import type { Command } from 'commander'
import { loadOrCreateKey } from '../../net/keys.js'
import { readSwarmKey } from '../../net/federation.js'
import { VmplantClient } from '../client.js'
import { readSpecFile } from '../spec-file.js'
import { formatClassad } from '../classad-format.js'
import { defaultClientKeyFile } from '../identity.js'
import { vmidSchema, type Classad, type CreateResult, type DomainCredential } from '../../interface/messages.js'
import { openDomainFolder } from './domain-commands.js'
import { parseCredential, type DomainCredentials } from '../domain-folder.js'
import { readFile } from 'node:fs/promises'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'
import { checkDomain } from '../option-values.js'

/** the domain of a create that names neither a domain nor a credential: this client's own, made on first use */
const DEFAULT_DOMAIN = 'default'

interface ClientOptions { shop: string, key?: string, domain?: string, credential?: string, psk?: string }

/**
 * The credentials a command sends: the one in --credential, else the one the client's domain
 * folder holds for --domain (made on first use for a create), else all it holds.
 */
async function credentialsOf (options: ClientOptions, out: Output): Promise<DomainCredentials> {
  checkDomain(options.domain)
  const folder = await openDomainFolder(options, out)
  if (options.credential === undefined) {
    if (options.domain === undefined) return folder
    const domain = options.domain
    return {
      forDomain: async (name) => await folder.forDomain(name),
      all: async () => {
        const held = await folder.held(domain)
        if (held === undefined) throw new UsageError(`this client holds no credential for domain ${domain} (see \`vmplant domain list\`); import one with \`vmplant domain import FILE\``)
        return [held]
      }
    }
  }
  const file = options.credential
  const credential = await readCredentialFile(file)
  if (options.domain !== undefined && options.domain !== credential.domain) throw new UsageError(`--domain ${options.domain} does not match ${file}, a credential for domain ${credential.domain}`)
  return { forDomain: async () => credential, all: async () => [credential] }
}

async function readCredentialFile (file: string): Promise<DomainCredential> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err: any) {
    throw new UsageError(`cannot read the credential ${file}: ${err?.message}`)
  }
  return parseCredential(text, file)
}

async function withClient<T> (options: ClientOptions, out: Output, work: (client: VmplantClient) => Promise<T>): Promise<T> {
  const domains = await credentialsOf(options, out)
  const psk = options.psk !== undefined ? { psk: await readSwarmKey(options.psk) } : {}
  const client = new VmplantClient({ shop: options.shop, privateKey: await loadOrCreateKey(options.key ?? defaultClientKeyFile()), domains, ...psk })
  await client.start()
  try {
    return await work(client)
  } finally {
    await client.stop()
  }
}

function checkVmid (vmid: string): string {
  const parsed = vmidSchema.safeParse(vmid)
  if (!parsed.success) throw new UsageError(`VMID "${vmid}" ${parsed.error.issues[0]?.message ?? 'is invalid'}`)
  return vmid
}

export function describeCreate (result: CreateResult): string {
  const { classad: ad, bidding } = result
  const winner = bidding.offers.find((o) => o.plant === ad.plant)
  const lines = [
    `created ${ad.vmid}`,
    `  plant ${ad.plant} won with cost ${ad.cost}${bidding.tie ? ' (a tie, broken at random)' : ''}: ${winner?.reason ?? ''}`,
    `  ${bidding.offers.length} offer(s) and ${bidding.declines.length} decline(s) from ${bidding.answered} of ${bidding.expected} known bidder(s)`,
    ...bidding.attempts.filter((a) => a.error !== undefined).map((a) => `  plant ${a.plant} failed the order: ${a.error}`),
    `  timings: bidding ${ms(ad.timings.biddingMs)}, cloning ${ms(ad.timings.cloningMs)}, configuring ${ms(ad.timings.configuringMs)}, total ${ms(ad.timings.totalMs)}`
  ]
  return lines.join('\n')
}

function ms (value: number): string {
  return `${Math.round(value * 10) / 10} ms`
}

function printClassad (out: Output, ad: Classad, options: { classad?: boolean }): void {
  out.print(options.classad === true ? formatClassad(ad) : JSON.stringify(ad, null, 2))
}

export function registerClientCommands (program: Command, out: Output): void {
  const shopOption = ['--shop <multiaddr>', 'the shop to talk to, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...'] as const
  const keyOption = ['--key <file>', `the client's identity key, made on first use; its domains live beside it (default: ${defaultClientKeyFile()})`] as const
  const credentialOption = ['--credential <file>', "a domain credential granted to this client (`vmplant domain grant`); default: the one in the client's domain folder"] as const
  const pickDomain = ['--domain <name>', 'send only the credential for this domain (default: every credential the client holds)'] as const
  const pskOption = ['--psk <file>', "a closed federation's swarm key (`vmplant federation key`), needed to reach its shop"] as const

  program.command('create')
    .description('ask the shop for a VM built from a spec file (YAML or JSON)')
    .requiredOption(...shopOption)
    .requiredOption('--spec <file>', 'the VM spec: hardware {memoryMB, os} and actions [{id, run, after}]')
    .option('--domain <name>', "the domain to create in; its VMs share a host-only network on each plant. A domain this client has no key or credential for is made on first use, as its own (default: the --credential's domain, else \"default\")")
    .option(...credentialOption)
    .option(...keyOption)
    .option(...pskOption)
    .option('--json', 'print the classad and the bidding report as JSON')
    .option('--classad', 'print the classad in HTCondor ClassAd syntax')
    .action(async (options: ClientOptions & { spec: string, json?: boolean, classad?: boolean }) => {
      checkDomain(options.domain)
      const { raw } = await readSpecFile(options.spec)
      const credential = options.credential !== undefined ? await readCredentialFile(options.credential) : undefined
      const domain = options.domain ?? credential?.domain ?? DEFAULT_DOMAIN
      const result = await withClient({ ...options, domain }, out, async (client) => await client.create(raw, domain))
      if (options.json === true) out.print(JSON.stringify(result))
      else if (options.classad === true) out.print(formatClassad(result.classad))
      else {
        out.print(describeCreate(result))
        out.print(JSON.stringify(result.classad, null, 2))
      }
    })

  program.command('query')
    .description('show the live classad of a VM in one of your domains')
    .argument('<vmid>', 'the VMID that create printed')
    .requiredOption(...shopOption)
    .option(...pickDomain)
    .option(...credentialOption)
    .option(...keyOption)
    .option(...pskOption)
    .option('--classad', 'print in HTCondor ClassAd syntax instead of JSON')
    .action(async (vmid: string, options: ClientOptions & { classad?: boolean }) => {
      const ad = await withClient(options, out, async (client) => client.query(checkVmid(vmid)))
      printClassad(out, ad, options)
    })

  program.command('destroy')
    .description('stop a VM in one of your domains and remove it')
    .argument('<vmid>', 'the VMID that create printed')
    .requiredOption(...shopOption)
    .option(...pickDomain)
    .option(...credentialOption)
    .option(...keyOption)
    .option(...pskOption)
    .action(async (vmid: string, options: ClientOptions) => {
      const result = await withClient(options, out, async (client) => client.destroy(checkVmid(vmid)))
      out.print(`destroyed ${result.vmid}`)
    })

  program.command('list')
    .description("list the VMs of your domains on every plant the shop knows")
    .requiredOption(...shopOption)
    .option(...pickDomain)
    .option(...credentialOption)
    .option(...keyOption)
    .option(...pskOption)
    .option('--json', 'print JSON')
    .action(async (options: ClientOptions & { json?: boolean }) => {
      const result = await withClient(options, out, async (client) => client.list())
      if (options.json === true) {
        out.print(JSON.stringify(result))
        return
      }
      if (result.vms.length === 0) out.print('no VMs')
      for (const ad of result.vms) out.print(`${ad.vmid}  ${ad.state.padEnd(8)} ${String(ad.memoryMB).padStart(6)} MB  ${ad.domain}  ${ad.createdAt}`)
      for (const plant of result.unreachable) out.error(`plant ${plant} did not answer`)
    })
}
