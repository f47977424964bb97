import { readFile } from 'node:fs/promises'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { loadOrCreateKey } from '../../net/keys.js'
import { readSwarmKey } from '../../net/federation.js'
import { createNode } from '../../net/node.js'
import { clientProtocol } from '../../net/protocols/client/index.js'
import { checkInterfaceName, vnetProxy, type DomainPlants, type ProxyEvent } from '../../net/tunnels/vnet/index.js'
import type { DomainCredential } from '../../interface/messages.js'
import { stopOnSignals } from '../../daemon/lifecycle.js'
import { defaultClientKeyFile, domainFolderOf } from '../identity.js'
import { DomainFolder, parseCredential } from '../domain-folder.js'
import { ShopUnreachableError, UsageError } from '../errors.js'
import type { Output } from '../output.js'
import { checkDomain, wholeNumber } from '../option-values.js'
import { errorMessage } from '../../interface/index.js'
import { shopAddress } from '../shop-address.js'

export interface ProxyOptions { shop: string, shopFrom?: string, domain: string, bridge?: string, tap?: string, key?: string, credential?: string, psk?: string, pollMs: string, mtu: string }

/** The credential the proxy opens tunnels with: a file, or the one the client's domain folder holds. */
async function loadCredential (options: ProxyOptions, keyFile: string, key: PrivateKey, out: Output): Promise<DomainCredential> {
  if (options.credential !== undefined) {
    let text: string
    try {
      text = await readFile(options.credential, 'utf8')
    } catch (err: unknown) {
      throw new UsageError(`cannot read --credential ${options.credential}: ${errorMessage(err)}`)
    }
    const credential = parseCredential(text, options.credential)
    if (credential.domain !== options.domain) throw new UsageError(`--credential ${options.credential} is for domain ${credential.domain}, not ${options.domain}`)
    return credential
  }
  const folder = new DomainFolder(domainFolderOf(keyFile, peerIdFromPrivateKey(key).toString()), key, (line) => { out.error(line) })
  if (await folder.publicId(options.domain) === undefined && await folder.credential(options.domain) === undefined) {
    throw new UsageError(`this client holds no credential for domain ${options.domain}: pass --credential FILE (from \`vmplant domain grant\`) or use the key that created the domain`)
  }
  return await folder.forDomain(options.domain)
}

function describe (event: ProxyEvent): string {
  switch (event.type) {
    case 'follow': return `vnet: following plant ${event.plant} on tap ${event.tap}`
    case 'unfollow': return `vnet: plant ${event.plant} hosts no VM of the domain any more; its tunnel is closed`
    case 'up': return `vnet: tunnel to ${event.plant} up (stream ${event.connects})`
    case 'down': return event.retryInMs < 0 ? `vnet: tunnel to ${event.plant} ended: ${event.reason}` : `vnet: tunnel to ${event.plant} down (${event.reason}); again in ${event.retryInMs} ms`
    case 'refused': return `vnet: ${event.reason}`
    case 'poll-failed': return `vnet: could not ask the shop for the domain's plants: ${event.reason}`
    default: {
      const unknown: never = event
      return `vnet: ${JSON.stringify(unknown)}`
    }
  }
}

export async function runProxy (options: ProxyOptions, out: Output): Promise<void> {
  checkDomain(options.domain)
  if ((options.bridge === undefined) === (options.tap === undefined)) throw new UsageError('give one of --bridge BR or --tap IF')
  try {
    if (options.bridge !== undefined) checkInterfaceName(options.bridge, '--bridge')
    if (options.tap !== undefined) checkInterfaceName(options.tap, '--tap')
  } catch (err: unknown) {
    throw new UsageError(errorMessage(err))
  }
  const shop = shopAddress(options.shop, options.shopFrom)
  const pollMs = wholeNumber(options.pollMs, '--poll-ms', 100, 3_600_000)
  const mtu = wholeNumber(options.mtu, '--mtu', 68, 65_000)
  const keyFile = options.key ?? defaultClientKeyFile()
  const key = await loadOrCreateKey(keyFile)
  const credential = await loadCredential(options, keyFile, key, out)
  const psk = options.psk !== undefined ? await readSwarmKey(options.psk) : undefined

  const libp2p = await createNode({ privateKey: key, listen: [], logPrefix: 'vmplant:vnet', ...(psk !== undefined ? { federation: { psk } } : {}) })
  await libp2p.start()
  // the shop first: one that cannot be reached, or that drops the connection at once (a closed
  // federation's swarm key), fails the start with the reason, rather than every poll after it
  try {
    await libp2p.dial(shop, { signal: AbortSignal.timeout(30_000) })
  } catch (err: unknown) {
    await libp2p.stop()
    const hint = psk === undefined ? 'if it is a closed federation, give its swarm key (--psk)' : "is this the federation's swarm key, and is this client on the shop's allowlist?"
    throw new ShopUnreachableError(`cannot reach the shop at ${options.shop}: ${errorMessage(err)}; ${hint}`, { cause: err })
  }
  const shopClient = clientProtocol({ libp2p, clock: { now: Date.now } }).shop(shop, key)
  const plantsHosting = async (opts: { signal?: AbortSignal } = {}): Promise<DomainPlants> => {
    const result = await shopClient.list([credential], opts)
    const plants = new Set(result.vms.filter((ad) => ad.domain === credential.domain && (ad.domainKey === undefined || ad.domainKey === credential.key) && ad.state !== 'destroyed').map((ad) => ad.plant))
    return { plants: [...plants], unreachable: result.unreachable }
  }
  const proxy = vnetProxy({ libp2p, plantsHosting }, {
    domain: credential.domain,
    credential,
    attach: options.bridge !== undefined ? { bridge: options.bridge } : { tap: options.tap as string },
    pollMs,
    mtu,
    onEvent: (event) => { out.print(describe(event)) }
  })
  try {
    await proxy.start()
  } catch (err) {
    await proxy.stop().catch(() => {})
    await libp2p.stop()
    throw err
  }
  stopOnSignals(async () => {
    await proxy.stop()
    await libp2p.stop()
  }, (line) => { out.error(line) })
  out.print(JSON.stringify({ event: 'ready', peer: libp2p.peerId.toString(), domain: credential.domain }))
  await new Promise<never>(() => {})
}
