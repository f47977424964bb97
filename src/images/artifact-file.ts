import { open, rename, rm, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import type { GoldenArtifact } from '../planner/index.js'
import { hashFileInto, type ImageNetwork } from '../interface/index.js'
import { DigestMismatchError } from './errors.js'

/** What a download reports as it goes. */
export type DownloadProgress =
  | { type: 'artifact.start', image: string, name: string, offset: number, bytes: number }
  | { type: 'artifact.progress', image: string, name: string, received: number, bytes: number }

export interface DownloadOptions {
  signal?: AbortSignal
  onProgress?: ((event: DownloadProgress) => void) | undefined
}

/**
 * Fetches one artifact into `path`: bytes go to `<path>.part`, which a later call resumes from
 * (the part's bytes are hashed first, then the rest as it arrives). The whole file's SHA-256 must
 * be the descriptor's, else the part is deleted and DigestMismatchError thrown; only a verified
 * file is renamed into place. A broken transfer throws the network's error and keeps the part.
 */
export async function downloadArtifact (network: ImageNetwork, peer: string, image: string, artifact: GoldenArtifact, path: string, options: DownloadOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  const part = `${path}.part`
  let offset = await stat(part).then((s) => s.size, () => 0)
  if (offset > artifact.bytes) {
    await rm(part, { force: true })
    offset = 0
  }
  const hash = createHash('sha256')
  if (offset > 0) await hashFileInto(hash, part, options)
  options.onProgress?.({ type: 'artifact.start', image, name: artifact.name, offset, bytes: artifact.bytes })
  const file = await open(part, 'a')
  try {
    let received = offset
    // nothing to receive: a part of full size from an earlier attempt, or an empty artifact
    if (offset < artifact.bytes) {
      await network.download(peer, { id: image, name: artifact.name, offset, bytes: artifact.bytes }, async (chunk) => {
        await file.write(chunk)
        hash.update(chunk)
        received += chunk.byteLength
        options.onProgress?.({ type: 'artifact.progress', image, name: artifact.name, received, bytes: artifact.bytes })
      }, { signal: options.signal })
    }
  } finally {
    await file.close()
  }
  const actual = hash.digest('hex')
  if (actual !== artifact.sha256) {
    await rm(part, { force: true })
    throw new DigestMismatchError(image, artifact.name, artifact.sha256, actual)
  }
  await rename(part, path)
}
