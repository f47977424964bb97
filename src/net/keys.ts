import { mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { writeFileDurably } from '../fs/index.js'
import { KeyFileError } from './errors.js'
import { errorCode, errorMessage } from '../interface/index.js'

/**
 * Loads the node's or client's identity key, making it on first use. The peer id, and so the
 * multiaddr others dial, stays the same across restarts: the new key is on disk before it is used,
 * and two processes making it at once both end up with the one that was written first.
 */
export async function loadOrCreateKey (file: string): Promise<PrivateKey> {
  const bytes = await readKeyFile(file)
  if (bytes !== undefined) return parseKey(file, bytes)
  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(file), { recursive: true })
  try {
    await writeFileDurably(file, privateKeyToProtobuf(key), { mode: 0o600, exclusive: true })
    return key
  } catch (err: unknown) {
    if (errorCode(err) !== 'EEXIST') throw new KeyFileError(`cannot write key file ${file}: ${errorMessage(err)}`, { cause: err })
  }
  const written = await readKeyFile(file)
  if (written === undefined) throw new KeyFileError(`key file ${file} was made by another process and is gone again`)
  return parseKey(file, written)
}

async function readKeyFile (file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file)
  } catch (err: unknown) {
    if (errorCode(err) === 'ENOENT') return undefined
    throw new KeyFileError(`cannot read key file ${file}: ${errorMessage(err)}`, { cause: err })
  }
}

function parseKey (file: string, bytes: Buffer): PrivateKey {
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err: unknown) {
    throw new KeyFileError(`key file ${file} does not hold a libp2p private key`, { cause: err })
  }
}
