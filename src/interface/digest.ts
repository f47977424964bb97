import { createReadStream } from 'node:fs'
import { createHash, type Hash } from 'node:crypto'
import type { AbortOptions } from './abort.js'

/**
 * sha256 and size of a file, read as a stream (RAM files are gigabytes): the one digest of a
 * golden image's artifacts, used by the image catalog and by the lines that import goldens.
 */
export async function digestFile (path: string, options: AbortOptions = {}): Promise<{ sha256: string, bytes: number }> {
  const hash = createHash('sha256')
  const bytes = await hashFileInto(hash, path, options)
  return { sha256: hash.digest('hex'), bytes }
}

/** Feeds a file into a running hash (a resumed download hashes its `.part` first); returns the bytes read. */
export async function hashFileInto (hash: Hash, path: string, options: AbortOptions = {}): Promise<number> {
  options.signal?.throwIfAborted()
  let bytes = 0
  for await (const chunk of createReadStream(path, { signal: options.signal })) {
    hash.update(chunk as Buffer)
    bytes += (chunk as Buffer).byteLength
  }
  return bytes
}
