import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { verifyDescriptor, type GoldenArtifact, type GoldenDescriptor } from '../planner/index.js'
import { digestFile, type GoldenImage, type GoldenImporter, type ImageNetwork, type WarehouseRecord } from '../interface/index.js'
import { ClashingFilesError, DigestMismatchError } from './errors.js'
import { downloadArtifact, type DownloadProgress } from './artifact-file.js'
import type { LinkSpeeds } from './link-speed.js'

export interface FetchContext {
  network: ImageNetwork
  /** folder of fetched images of lines without an importer, one sub-folder per image */
  dir: string
  importers: readonly GoldenImporter[]
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
  const { peer, id } = candidate
  const answer = await context.network.describe(peer, id, { signal })
  const descriptor = verifyDescriptor(answer.descriptor, id)
  const importer = context.importers.find((i) => i.line === descriptor.line)
  const byLine = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (err: unknown) {
      throw new Refused(err)
    }
  }
  try {
    const { dir, plan } = importer !== undefined ? await byLine(async () => await staged(importer, id, descriptor, signal)) : await ownFolder(context.dir, id, descriptor, answer.files)
    for (const { name, file } of plan) {
      const artifact = descriptor.artifacts.find((a) => a.name === name) as GoldenArtifact
      const path = join(dir, file)
      await fetchArtifact(context, peer, id, artifact, path, signal, onProgress)
      if (importer !== undefined) await byLine(async () => { await importer.received(id, descriptor, name, path, { signal }) })
    }
    const golden: GoldenImage = importer !== undefined
      ? await byLine(async () => await importer.commit(id, descriptor, { signal }))
      : { id, line: descriptor.line, hardware: descriptor.hardware, applied: [...descriptor.applied], dir, artifacts: Object.fromEntries(plan.map((p) => [p.name, p.file])), createdAt: context.now() }
    const now = context.now()
    return { id, descriptor, golden: { ...golden, id }, source: 'fetched', addedAt: now, lastUsedAt: now, uses: 0 }
  } catch (err: unknown) {
    // a corrupted or refused image is not kept for a resume: the next attempt starts clean
    if (err instanceof DigestMismatchError || err instanceof Refused) {
      if (importer !== undefined) await importer.discard(id)
      else await rm(join(context.dir, id), { recursive: true, force: true })
    }
    if (err instanceof Refused) throw err.error
    throw err
  }
}

type Plan = Array<{ name: string, file: string }>

/** The line's staging folder for the image; it must place every artifact. */
async function staged (importer: GoldenImporter, id: string, descriptor: GoldenDescriptor, signal: AbortSignal): Promise<{ dir: string, plan: Plan }> {
  const { dir, files: plan } = await importer.stage(id, descriptor, { signal })
  const planned = new Set(plan.map((p) => p.name))
  if (planned.size !== descriptor.artifacts.length || descriptor.artifacts.some((a) => !planned.has(a.name))) throw new Error(`the ${importer.line} line's importer does not place every artifact of image ${id}`)
  return { dir, plan }
}

/** `<dir>/<id>/`, with the holder's file names when they are usable. */
async function ownFolder (root: string, id: string, descriptor: GoldenDescriptor, offered: Record<string, string>): Promise<{ dir: string, plan: Plan }> {
  const files = fileNames(descriptor.artifacts.map((a) => a.name), offered)
  const dir = join(root, id)
  await mkdir(dir, { recursive: true })
  return { dir, plan: descriptor.artifacts.map((a) => ({ name: a.name, file: files[a.name] as string })) }
}

/** One artifact into `path`, unless an earlier, broken fetch left it there verified; notes the link's speed. */
async function fetchArtifact (context: FetchContext, peer: string, id: string, artifact: GoldenArtifact, path: string, signal: AbortSignal, onProgress?: (event: DownloadProgress) => void): Promise<void> {
  const done = await digestFile(path, { signal }).catch(() => undefined)
  if (done?.sha256 === artifact.sha256 && done.bytes === artifact.bytes) return
  let offset = 0
  const started = Date.now()
  await downloadArtifact(context.network, peer, id, artifact, path, {
    signal,
    onProgress: (event) => {
      if (event.type === 'artifact.start') offset = event.offset
      onProgress?.(event)
    }
  })
  context.speeds.note(peer, artifact.bytes - offset, Date.now() - started)
}

/**
 * The holder's file names when they are plain, distinct and not our `.part` names; otherwise
 * the artifact names. A peer cannot make two artifacts share a file.
 */
function fileNames (names: string[], offered: Record<string, string>): Record<string, string> {
  const chosen = Object.fromEntries(names.map((name) => [name, offered[name] ?? name]))
  const values = Object.values(chosen)
  if (new Set(values).size !== values.length || values.some((v) => v.endsWith('.part'))) {
    throw new ClashingFilesError(`the holder's artifact file names ${JSON.stringify(offered)} clash`)
  }
  return chosen
}
