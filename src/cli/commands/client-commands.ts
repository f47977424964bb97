import type { Command } from 'commander'
import { loadOrCreateKey } from '../../net/keys.js'
import { VmplantClient } from '../client.js'
import { readSpecFile } from '../spec-file.js'
import { formatClassad } from '../classad-format.js'
import { defaultClientKeyFile } from '../identity.js'
import { domainSchema, vmidSchema, type Classad, type CreateResult } from '../../interface/messages.js'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'

interface ClientOptions { shop: string, key?: string }

async function withClient<T> (options: ClientOptions, work: (client: VmplantClient) => Promise<T>): Promise<T> {
  const client = new VmplantClient({ shop: options.shop, privateKey: await loadOrCreateKey(options.key ?? defaultClientKeyFile()) })
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
  const keyOption = ['--key <file>', `the client's identity key, made on first use (default: ${defaultClientKeyFile()})`] as const

  program.command('create')
    .description('ask the shop for a VM built from a spec file (YAML or JSON)')
    .requiredOption(...shopOption)
    .requiredOption('--spec <file>', 'the VM spec: hardware {memoryMB, os} and actions [{id, run, after}]')
    .requiredOption('--domain <name>', "the client's domain; its VMs share a host-only network on each plant")
    .option(...keyOption)
    .option('--json', 'print the classad and the bidding report as JSON')
    .option('--classad', 'print the classad in HTCondor ClassAd syntax')
    .action(async (options: ClientOptions & { spec: string, domain: string, json?: boolean, classad?: boolean }) => {
      const domain = domainSchema.safeParse(options.domain)
      if (!domain.success) throw new UsageError(`--domain "${options.domain}" ${domain.error.issues[0]?.message ?? 'is invalid'}`)
      const { raw } = await readSpecFile(options.spec)
      const result = await withClient(options, async (client) => client.create(raw, options.domain))
      if (options.json === true) out.print(JSON.stringify(result))
      else if (options.classad === true) out.print(formatClassad(result.classad))
      else {
        out.print(describeCreate(result))
        out.print(JSON.stringify(result.classad, null, 2))
      }
    })

  program.command('query')
    .description('show the live classad of one of your VMs')
    .argument('<vmid>', 'the VMID that create printed')
    .requiredOption(...shopOption)
    .option(...keyOption)
    .option('--classad', 'print in HTCondor ClassAd syntax instead of JSON')
    .action(async (vmid: string, options: ClientOptions & { classad?: boolean }) => {
      const ad = await withClient(options, async (client) => client.query(checkVmid(vmid)))
      printClassad(out, ad, options)
    })

  program.command('destroy')
    .description('stop one of your VMs and remove it')
    .argument('<vmid>', 'the VMID that create printed')
    .requiredOption(...shopOption)
    .option(...keyOption)
    .action(async (vmid: string, options: ClientOptions) => {
      const result = await withClient(options, async (client) => client.destroy(checkVmid(vmid)))
      out.print(`destroyed ${result.vmid}`)
    })

  program.command('list')
    .description('list your VMs on every plant the shop knows')
    .requiredOption(...shopOption)
    .option(...keyOption)
    .option('--json', 'print JSON')
    .action(async (options: ClientOptions & { json?: boolean }) => {
      const result = await withClient(options, async (client) => client.list())
      if (options.json === true) {
        out.print(JSON.stringify(result))
        return
      }
      if (result.vms.length === 0) out.print('no VMs')
      for (const ad of result.vms) out.print(`${ad.vmid}  ${ad.state.padEnd(8)} ${String(ad.memoryMB).padStart(6)} MB  ${ad.domain}  ${ad.createdAt}`)
      for (const plant of result.unreachable) out.error(`plant ${plant} did not answer`)
    })
}
