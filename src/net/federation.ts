import { readFile } from 'node:fs/promises'
import { preSharedKey, generateKey } from '@libp2p/pnet'
import type { ConnectionGater, ConnectionProtector, ComponentLogger, PeerId } from '@libp2p/interface'
import { writeFileDurably } from '../fs/index.js'
import { SwarmKeyError } from './errors.js'
import { errorCode, errorMessage } from '../interface/index.js'

/** A closed federation: who may connect to a node at all. */
export interface FederationInit {
  /** the swarm key (pnet's `/key/swarm/psk/1.0.0/` format) every member shares; absent: open */
  psk?: Uint8Array
  /** peer ids (nodes and clients) a node may connect with; absent: any peer holding the key */
  allow?: string[]
}

export interface FederationOptions {
  connectionProtector?: (components: { logger: ComponentLogger }) => ConnectionProtector
  connectionGater: ConnectionGater
}

const SWARM_KEY = /^\/key\/swarm\/psk\/1\.0\.0\/\r?\n\/base16\/\r?\n[0-9a-fA-F]{64}\s*$/

/** Reads and checks a swarm key file; its bytes go to pnet as they are. */
export async function readSwarmKey (file: string): Promise<Uint8Array> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err: unknown) {
    throw new SwarmKeyError(`cannot read swarm key ${file}: ${errorMessage(err)}`, { cause: err })
  }
  if (bytes.length > 200 || !SWARM_KEY.test(bytes.toString('utf8'))) {
    throw new SwarmKeyError(`${file} is not a swarm key: expected "/key/swarm/psk/1.0.0/", "/base16/" and 64 hex digits on three lines (make one with \`vmplant federation key --out FILE\`)`)
  }
  return new Uint8Array(bytes)
}

/** Writes a new random swarm key to `file` (mode 0600), durably; never overwrites one. */
export async function writeSwarmKey (file: string): Promise<void> {
  const key = new Uint8Array(95)
  generateKey(key)
  try {
    await writeFileDurably(file, key, { mode: 0o600, exclusive: true })
  } catch (err: unknown) {
    throw new SwarmKeyError(errorCode(err) === 'EEXIST' ? `${file} exists; a swarm key is never overwritten` : `cannot write swarm key ${file}: ${errorMessage(err)}`, { cause: err })
  }
}

/**
 * libp2p options for a federation: with a key, every connection is wrapped in pnet's XSalsa20
 * stream before noise, so a peer without the same key fails the handshake; with an allowlist, the
 * gater refuses to dial, or to finish an inbound connection with, any peer not on it.
 */
export function federationOptions (init: FederationInit = {}): FederationOptions {
  const allow = init.allow !== undefined ? new Set(init.allow) : undefined
  const denied = (peer: PeerId): boolean => allow !== undefined && !allow.has(peer.toString())
  return {
    ...(init.psk !== undefined ? { connectionProtector: preSharedKey({ psk: init.psk }) } : {}),
    connectionGater: {
      // private and loopback addresses are fine: a federation's sites often sit on private networks
      denyDialMultiaddr: () => false,
      denyDialPeer: denied,
      denyOutboundEncryptedConnection: denied,
      denyInboundEncryptedConnection: denied
    }
  }
}
