import { mkdir, readFile, writeFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { KeyFileError } from './errors.js'
import { errorCode, errorMessage } from '../interface/index.js'

/**
 * Loads the node's or client's identity key, making it on first use. The peer id, and so the
 * multiaddr others dial, stays the same across restarts.
 */
export async function loadOrCreateKey (file: string): Promise<PrivateKey> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err: unknown) {
    if (errorCode(err) !== 'ENOENT') throw new KeyFileError(`cannot read key file ${file}: ${errorMessage(err)}`, { cause: err })
    const key = await generateKeyPair('Ed25519')
    await mkdir(dirname(file), { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 })
    await rename(tmp, file)
    return key
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new KeyFileError(`key file ${file} does not hold a libp2p private key`, { cause: err })
  }
}
