import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { logger } from '@libp2p/logger'
import { syncFilesIn, syncFolder } from '../../fs/index.js'
import { abandonedBuildDirs, claimBuildDir, releaseBuildDir } from '../build-dirs.js'
import { digestFile, type AbortOptions, type GoldenArtifact, type GoldenDescriptor, type GoldenImage, type GoldenImporter } from '../../interface/index.js'
import { GoldenImportError } from './errors.js'
import { GOLDEN_FILES, type GoldenMeta } from './golden.js'
import { transferOrder, QEMU_ARTIFACTS } from './golden-export.js'
import { checkDescriptor, checkMeta, IMAGE_ID } from './golden-import-checks.js'
import type { QemuLineInit } from './init.js'

const log = logger('vmplant:plant:qemu:import')

/** Staging folders in the golden folder: the download of one image, on tmpfs, with its owner's pid. */
const STAGING = '.import-'

/**
 * The QEMU line's side of fetching a golden image from a peer (the `GoldenImporter` that
 * `QemuLine.goldenImporter()` hands the image component): the artifacts are downloaded into a staging folder in the
 * line's golden folder (tmpfs, so the RAM file is where clones map it and is never copied), checked
 * against the descriptor and the line, and renamed into `<goldenDir>/<image id>/` in one step.
 */
export interface QemuGoldenImporter extends GoldenImporter {
  readonly line: 'qemu'
}

export function qemuGoldenImporter (init: Pick<QemuLineInit, 'goldenDir' | 'nic' | 'accel'>): QemuGoldenImporter {
  const staging = (id: string): string => join(init.goldenDir, STAGING + id)

  return {
    line: 'qemu',

    async stage (id, descriptor, options = {}) {
      options.signal?.throwIfAborted()
      checkDescriptor(init, id, descriptor)
      const dir = staging(id)
      await mkdir(dir, { recursive: true })
      await claimBuildDir(dir)
      return { dir, files: transferOrder(descriptor).map((name) => ({ name, file: QEMU_ARTIFACTS[name]?.file ?? name })) }
    },

    async received (id, descriptor, name, path, options = {}) {
      options.signal?.throwIfAborted()
      // the metadata comes first: a golden of another model is refused before its RAM moves
      if (name === 'meta') await checkMeta(init, id, descriptor, path)
    },

    async commit (id, descriptor, options = {}) {
      options.signal?.throwIfAborted()
      checkDescriptor(init, id, descriptor)
      const dir = staging(id)
      await releaseBuildDir(dir)
      await checkReceived(id, descriptor, dir, options)
      const meta = await checkMeta(init, id, descriptor, join(dir, GOLDEN_FILES.meta))
      const target = join(init.goldenDir, id)
      await moveIntoPlace(dir, target, options)
      log('imported golden %s (machine model %d, %s) into %s', id, meta.version, meta.accel, target)
      return importedImage(id, descriptor, target, meta)
    },

    async discard (id, options = {}) {
      options.signal?.throwIfAborted()
      if (!IMAGE_ID.test(id)) return
      await rm(staging(id), { recursive: true, force: true })
    }
  }
}

/** The staging folder holds the descriptor's files and nothing else, each with the size and digest the descriptor says. */
async function checkReceived (id: string, descriptor: GoldenDescriptor, dir: string, options: AbortOptions): Promise<void> {
  const expected = new Map<string, GoldenArtifact>(descriptor.artifacts.map((a) => [QEMU_ARTIFACTS[a.name]?.file as string, a]))
  for (const entry of await readdir(dir)) {
    // nothing but the descriptor's files goes where clones map them (no `.part` left over)
    if (!expected.has(entry)) await rm(join(dir, entry), { recursive: true, force: true })
  }
  for (const [file, artifact] of expected) {
    const path = join(dir, file)
    const actual = await digestFile(path, options).catch((err: unknown) => { throw new GoldenImportError(id, `its ${artifact.name} was not received`, { cause: err }) })
    if (actual.sha256 !== artifact.sha256 || actual.bytes !== artifact.bytes) throw new GoldenImportError(id, `its ${artifact.name} (${file}) hashes to ${actual.sha256} (${actual.bytes} bytes), its descriptor says ${artifact.sha256} (${artifact.bytes} bytes)`)
  }
}

/** Renames the checked staging folder to the golden's own, in one step. */
async function moveIntoPlace (dir: string, target: string, options: AbortOptions): Promise<void> {
  if (await stat(join(target, GOLDEN_FILES.meta)).then(() => true, () => false)) {
    // imported before (its record was lost): the files of one id are the same files
    await rm(dir, { recursive: true, force: true })
    return
  }
  await rm(target, { recursive: true, force: true })
  // the downloads were renamed from their parts unsynced: the meta file must not outlive them
  await syncFilesIn(dir, options)
  await rename(dir, target)
  await syncFolder(dirname(target))
}

function importedImage (id: string, descriptor: GoldenDescriptor, dir: string, meta: GoldenMeta): GoldenImage {
  return {
    id,
    line: 'qemu',
    hardware: { ...descriptor.hardware },
    applied: [...descriptor.applied],
    dir,
    artifacts: Object.fromEntries(descriptor.artifacts.map((a) => [a.name, QEMU_ARTIFACTS[a.name]?.file as string])),
    createdAt: meta.createdAt
  }
}

/** Removes the staging folders of imports whose plant was killed. */
export async function removeAbandonedImports (goldenDir: string, options: AbortOptions = {}): Promise<void> {
  for (const dir of await abandonedBuildDirs(goldenDir, STAGING, options)) {
    log('removed the golden import %s that a killed plant left', dir)
    await rm(dir, { recursive: true, force: true })
  }
}
