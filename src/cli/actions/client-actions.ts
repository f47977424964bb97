import { readFile } from 'node:fs/promises'
import { loadOrCreateKey } from '../../net/keys.js'
import { readSwarmKey } from '../../net/federation.js'
import { VmplantClient, type ClientEvent } from '../client.js'
import { formatClassad } from '../classad-format.js'
import { defaultClientKeyFile } from '../identity.js'
import { vmidSchema, type Classad, type CreateProgress, type CreateResult, type DomainCredential } from '../../interface/messages.js'
import { openDomainFolder } from './domain-actions.js'
import { parseCredential, type DomainCredentials } from '../domain-folder.js'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'
import { checkDomain } from '../option-values.js'
import { steps, type Steps } from '../progress.js'
import { errorMessage } from '../../interface/index.js'
import { shopAddress } from '../shop-address.js'

/** the domain of a create that names neither a domain nor a credential: this client's own, made on first use */
const DEFAULT_DOMAIN = 'default'

/** `shopFrom`: where --shop came from (the flag, VMPLANT_SHOP or the profile), for a message about it */
export interface ClientOptions { shop: string, shopFrom?: string, key?: string, domain?: string, credential?: string, psk?: string }

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
  } catch (err: unknown) {
    throw new UsageError(`cannot read the credential ${file}: ${errorMessage(err)}`)
  }
  return parseCredential(text, file)
}

async function withClient<T> (options: ClientOptions, out: Output, work: (client: VmplantClient) => Promise<T>, onEvent?: (event: ClientEvent) => void): Promise<T> {
  shopAddress(options.shop, options.shopFrom)
  const domains = await credentialsOf(options, out)
  const psk = options.psk !== undefined ? { psk: await readSwarmKey(options.psk) } : {}
  const client = new VmplantClient({ shop: options.shop, privateKey: await loadOrCreateKey(options.key ?? defaultClientKeyFile()), domains, ...psk, ...(onEvent !== undefined ? { onEvent } : {}) })
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

/** what each reported step is doing, for its label */
const DOING: Record<CreateProgress['step'], string> = {
  bidding: 'bidding',
  order: 'order',
  golden: 'golden image',
  'image-fetch': 'fetching',
  download: 'downloading',
  build: 'building',
  boot: 'booting',
  checkpoint: 'checkpointing',
  clone: 'cloning',
  network: 'network',
  actions: 'actions'
}

/** steps of the plant's line, which `demo` and `up` show already from the line itself */
const LINE_STEPS = new Set<CreateProgress['step']>(['image-fetch', 'download', 'build', 'boot', 'checkpoint'])

/**
 * A create's steps as the client sees them: connecting to the shop, then the shop's bidding and
 * order and, inside the order, the plant's production (golden image, on a fresh plant its build,
 * the clone, the guest's network, the actions), each a step of its own. `lineShown`: the plant's
 * line steps are shown elsewhere (an embedded federation's own progress) and are left out here;
 * `plantName`: what that progress calls a plant (else the end of its peer id).
 * The other requests are quick: only their connection is shown.
 */
export function createSteps (all: Steps, shop: string, options: { lineShown?: boolean, plantName?: (peer: string) => string | undefined } = {}): (event: ClientEvent) => void {
  // only this create's steps are ended with it: `all` may show others (an embedded federation's lines)
  const mine = new Set<string>()
  const start = (key: string, label: string, fraction?: number): void => { mine.add(key); all.start(key, label, fraction) }
  return (event) => {
    switch (event.type) {
      case 'connecting': start('client', `connecting to the shop ${shop}`); break
      case 'connected': all.end('client', `connected in ${Math.round(event.ms)} ms`); break
      case 'progress': {
        const { step, phase, detail, fraction, plant } = event.event
        if (options.lineShown === true && LINE_STEPS.has(step)) break
        const key = `${plant ?? 'shop'} ${step}`
        const who = plant === undefined ? 'shop' : options.plantName?.(plant) ?? `plant ${plant.slice(-8)}`
        if (phase === 'start') start(key, `${who}: ${DOING[step]}: ${detail}`, fraction)
        else if (phase === 'progress') all.update(key, fraction ?? 0, detail)
        else all.end(key, detail)
        break
      }
      case 'answered':
        for (const key of mine) all.end(key, event.ok ? 'answered' : 'failed')
        mine.clear()
        break
      default: {
        const unknown: never = event
        throw new Error(`unknown client event ${JSON.stringify(unknown)}`)
      }
    }
  }
}

export async function create (options: ClientOptions & { spec: string, json?: boolean, classad?: boolean }, out: Output): Promise<void> {
  checkDomain(options.domain)
  shopAddress(options.shop, options.shopFrom)
  // the spec file's reader and yaml load for a create only: query, destroy and list start without them
  const { readSpecFile } = await import('../spec-file.js')
  const { raw } = await readSpecFile(options.spec)
  const credential = options.credential !== undefined ? await readCredentialFile(options.credential) : undefined
  const domain = options.domain ?? credential?.domain ?? DEFAULT_DOMAIN
  const shown = steps(out)
  let result: CreateResult
  try {
    result = await withClient({ ...options, domain }, out, async (client) => await client.create(raw, domain), createSteps(shown, options.shop))
    shown.close()
  } catch (err) {
    shown.close('failed')
    throw err
  }
  if (options.json === true) out.print(JSON.stringify(result))
  else if (options.classad === true) out.print(formatClassad(result.classad))
  else {
    out.print(describeCreate(result))
    out.print(JSON.stringify(result.classad, null, 2))
  }
}

export async function query (vmid: string, options: ClientOptions & { classad?: boolean }, out: Output): Promise<void> {
  const id = checkVmid(vmid)
  const ad = await withClient(options, out, async (client) => client.query(id))
  printClassad(out, ad, options)
}

export async function destroy (vmid: string, options: ClientOptions, out: Output): Promise<void> {
  const id = checkVmid(vmid)
  const result = await withClient(options, out, async (client) => client.destroy(id))
  out.print(`destroyed ${result.vmid}`)
}

export async function list (options: ClientOptions & { json?: boolean }, out: Output): Promise<void> {
  const result = await withClient(options, out, async (client) => client.list())
  if (options.json === true) {
    out.print(JSON.stringify(result))
    return
  }
  if (result.vms.length === 0) out.print('no VMs')
  for (const ad of result.vms) out.print(`${ad.vmid}  ${ad.state.padEnd(8)} ${String(ad.memoryMB).padStart(6)} MB  ${ad.domain}  ${ad.createdAt}`)
  for (const plant of result.unreachable) out.error(`plant ${plant} did not answer`)
}
