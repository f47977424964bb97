import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { verifyDescriptor, type GoldenArtifact, type GoldenDescriptor } from '../../../planner/index.js'
import { digestFile, type WarehouseRecord } from '../../../store/index.js'
import type { GoldenImage } from '../../../interface/index.js'
import { call } from '../../rpc.js'
import { MalformedMessageError } from '../../errors.js'
import { PROTOCOLS } from '../../protocols.js'
import { DigestMismatchError } from './errors.js'
import { downloadArtifact, type DownloadProgress } from './download.js'
import type { LinkSpeeds } from './link-speed.js'
import type { ImageImporter } from './types.js'
import { IMAGE_WIRE_LIMITS, descriptorAnswerSchema } from './wire.js'

export interface FetchContext {
  libp2p: Libp2p
  /** folder of fetched images of lines without an importer, one sub-folder per image */
  dir: string
  importers: readonly ImageImporter[]
  speeds: LinkSpeeds
  now: () => number
}

/** An error of the line's importer: the image is refused and its staged files go. */
class Refused extends Error {
  constructor (readonly error: unknown) {
    super('refused by its line')
  }
}

/**
 * Copies one image from its holder: descriptor (checked against `id`), then each artifact (checked
 * against its digest, resumed from a `.part` file an earlier attempt left), into the line's
 * importer when its line has one, else into `<dir>/<id>/`. A corrupted artifact or an image the
 * line refuses leaves no file behind; a broken transfer keeps what it verified for the next try.
 */
export async function fetchImage (context: FetchContext, candidate: { peer: string, id: string }, options: { signal: AbortSignal, onProgress?: ((event: DownloadProgress) => void) | undefined }): Promise<WarehouseRecord> {
  const { signal, onProgress } = options
  signal.throwIfAborted()
  const { peer: peerId, id } = candidate
  const { libp2p } = context
  const peer = peerIdFromString(peerId)
  const answer = await call(libp2p, peer, PROTOCOLS.image, { type: 'descriptor', id }, descriptorAnswerSchema, { signal, maxBytes: IMAGE_WIRE_LIMITS.maxAnswerBytes })
  const descriptor = verifyDescriptor(answer.descriptor, id)
  const importer = context.importers.find((i) => i.line === descriptor.line)
  const byLine = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (err) {
      throw new Refused(err)
    }
  }
  const removeAll = async (): Promise<void> => {
    if (importer !== undefined) await importer.discard(id)
    else await rm(join(context.dir, id), { recursive: true, force: true })
  }
  try {
    let dir: string
    let plan: Array<{ name: string, file: string }>
    if (importer !== undefined) {
      ({ dir, files: plan } = await byLine(async () => await importer.stage(id, descriptor, { signal })))
      const planned = new Set(plan.map((p) => p.name))
      if (planned.size !== descriptor.artifacts.length || descriptor.artifacts.some((a) => !planned.has(a.name))) throw new Refused(new Error(`the ${importer.line} line's importer does not place every artifact of image ${id}`))
    } else {
      const files = fileNames(descriptor.artifacts.map((a) => a.name), answer.files)
      dir = join(context.dir, id)
      plan = descriptor.artifacts.map((a) => ({ name: a.name, file: files[a.name] as string }))
      await mkdir(dir, { recursive: true })
    }
    for (const { name, file } of plan) {
      const artifact = descriptor.artifacts.find((a) => a.name === name) as GoldenArtifact
      const path = join(dir, file)
      await fetchArtifact(context, peerId, id, artifact, path, signal, onProgress)
      if (importer !== undefined) await byLine(async () => { await importer.received(id, descriptor, name, path, { signal }) })
    }
    const golden: GoldenImage = importer !== undefined
      ? await byLine(async () => await importer.commit(id, descriptor, { signal }))
      : { id, line: descriptor.line, hardware: descriptor.hardware, applied: [...descriptor.applied], dir, artifacts: Object.fromEntries(plan.map((p) => [p.name, p.file])), createdAt: context.now() }
    return recordOf(id, descriptor, golden, context.now())
  } catch (err) {
    // a corrupted or refused image is not kept for a resume: the next attempt starts clean
    if (err instanceof DigestMismatchError || err instanceof Refused) await removeAll()
    if (err instanceof Refused) throw err.error
    throw err
  }
}

/** One artifact into `path`, unless an earlier, broken fetch left it there verified; notes the link's speed. */
async function fetchArtifact (context: FetchContext, peer: string, id: string, artifact: GoldenArtifact, path: string, signal: AbortSignal, onProgress?: (event: DownloadProgress) => void): Promise<void> {
  const done = await digestFile(path, { signal }).catch(() => undefined)
  if (done?.sha256 === artifact.sha256 && done.bytes === artifact.bytes) return
  let offset = 0
  const started = Date.now()
  await downloadArtifact(context.libp2p, peerIdFromString(peer), id, artifact, path, {
    signal,
    onProgress: (event) => {
      if (event.type === 'artifact.start') offset = event.offset
      onProgress?.(event)
    }
  })
  context.speeds.note(peer, artifact.bytes - offset, Date.now() - started)
}

function recordOf (id: string, descriptor: GoldenDescriptor, golden: GoldenImage, now: number): WarehouseRecord {
  return { id, descriptor, golden: { ...golden, id }, source: 'fetched', addedAt: now, lastUsedAt: now, uses: 0 }
}

/**
 * The holder's file names when they are plain, distinct and not our `.part` names; otherwise
 * the artifact names. A peer cannot make two artifacts share a file.
 */
function fileNames (names: string[], offered: Record<string, string>): Record<string, string> {
  const chosen = Object.fromEntries(names.map((name) => [name, offered[name] ?? name]))
  const values = Object.values(chosen)
  if (new Set(values).size !== values.length || values.some((v) => v.endsWith('.part'))) {
    throw new MalformedMessageError(`the holder's artifact file names ${JSON.stringify(offered)} clash`)
  }
  return chosen
}
