import { readFile } from 'node:fs/promises'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { writeFileDurably } from '../../fs/index.js'
import { loadOrCreateKey } from '../../net/keys.js'
import { defaultClientKeyFile, domainFolderOf } from '../identity.js'
import { DomainFolder, parseCredential, SELF_GRANT_MS } from '../domain-folder.js'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 }

/** A duration such as 90s, 15m, 12h, 30d, 2w or 1y, in ms. */
export function parseDuration (text: string): number {
  const match = /^(\d+)([smhdwy])$/.exec(text.trim())
  const ms = match === null ? NaN : Number(match[1]) * (UNITS[match[2] as string] as number)
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new UsageError(`duration "${text}" is not a positive whole number followed by s, m, h, d, w or y (e.g. 30d)`)
  return ms
}

/** The client's domain folder, beside the key the options name. */
export async function openDomainFolder (options: { key?: string }, out: Output): Promise<DomainFolder> {
  const keyFile = options.key ?? defaultClientKeyFile()
  const key = await loadOrCreateKey(keyFile)
  return new DomainFolder(domainFolderOf(keyFile, peerIdFromPrivateKey(key).toString()), key, (line) => { out.error(line) })
}

export async function createDomain (name: string, options: { key?: string }, out: Output): Promise<void> {
  const folder = await openDomainFolder(options, out)
  out.print(await folder.create(name))
}

export async function grant (name: string, options: { client: string, expires: string, out?: string, key?: string }, out: Output): Promise<void> {
  try {
    if (peerIdFromString(options.client).publicKey === undefined) throw new Error('no key')
  } catch {
    throw new UsageError(`--client "${options.client}" is not a client peer id (12D3Koo...)`)
  }
  const folder = await openDomainFolder(options, out)
  const credential = await folder.grant(name, options.client, parseDuration(options.expires))
  const text = JSON.stringify(credential, null, 2)
  if (options.out === undefined) out.print(text)
  else {
    await writeFileDurably(options.out, text + '\n', { mode: 0o600 })
    out.error(`wrote the credential of domain ${name} for ${options.client}, valid until ${new Date(credential.expiresAt).toISOString()}, to ${options.out}`)
  }
}

export async function importCredential (file: string, options: { key?: string }, out: Output): Promise<void> {
  const folder = await openDomainFolder(options, out)
  const credential = parseCredential(await readFile(file, 'utf8'), file)
  await folder.import(credential)
  out.print(`imported the credential for domain ${credential.domain} (${credential.key}), valid until ${new Date(credential.expiresAt).toISOString()}`)
}

export async function listDomains (options: { key?: string, json?: boolean }, out: Output): Promise<void> {
  const folder = await openDomainFolder(options, out)
  const entries = await folder.list()
  if (options.json === true) {
    out.print(JSON.stringify({ client: folder.client, folder: folder.dir, domains: entries }))
    return
  }
  out.print(`client ${folder.client}`)
  if (entries.length === 0) out.print('no domains (a create makes its domain on first use)')
  for (const entry of entries) {
    const id = entry.owned ?? entry.credential?.key ?? ''
    const role = entry.owned !== undefined ? 'own key' : `granted by ${id}`
    const until = entry.credential !== undefined ? `credential until ${new Date(entry.credential.expiresAt).toISOString()}` : `credentials made on use, for ${SELF_GRANT_MS / 86_400_000} days`
    out.print(`${entry.name}  ${id}  ${role}  ${until}`)
  }
}
