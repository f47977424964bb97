import { constants } from 'node:fs'
import { access, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { logger } from '@libp2p/logger'
import { syncFilesIn, syncFolder } from '../../fs/index.js'
import { z } from 'zod'
import { abandonedBuildDirs, claimBuildDir, releaseBuildDir } from '../build-dirs.js'
import { digestFile, hardwareProblem, type AbortOptions, type GoldenDescriptor, type GoldenImage, type GoldenImporter } from '../../interface/index.js'
import { qemuCapabilities } from './capabilities.js'
import { GoldenImportError } from './errors.js'
import { GOLDEN_FILES, MACHINE_MODEL, type GoldenMeta } from './golden.js'
import { transferOrder, QEMU_ARTIFACTS } from './golden-export.js'
import type { QemuLineInit } from './init.js'

const log = logger('vmplant:plant:qemu:import')

/** Staging folders in the golden folder: the download of one image, on tmpfs, with its owner's pid. */
const STAGING = '.import-'
/** an image id as a folder name: a CID in base32 */
const IMAGE_ID = /^[a-z2-7]{8,128}$/

/**
 * The QEMU line's side of fetching a golden image from a peer (the `GoldenImporter` that
 * `QemuLine.goldenImporter()` hands the image component): the artifacts are downloaded into a staging folder in the
 * line's golden folder (tmpfs, so the RAM file is where clones map it and is never copied), checked
 * against the descriptor and the line, and renamed into `<goldenDir>/<image id>/` in one step.
 */
export interface QemuGoldenImporter extends GoldenImporter {
  readonly line: 'qemu'
}

/** golden.json as a peer sent it: every field the clone's command line uses is checked */
const metaSchema = z.object({
  version: z.number(),
  id: z.string().regex(/^[0-9a-f]{32}$/),
  hardware: z.object({ arch: z.string(), os: z.string(), memoryMB: z.number().int() }),
  applied: z.array(z.string()),
  memoryMB: z.number().int().min(1),
  accel: z.enum(['kvm', 'tcg']),
  tbSizeMB: z.number().int().min(1).max(4096),
  mac: z.string().regex(/^52:54:00(:[0-9a-f]{2}){3}$/).optional(),
  append: z.string().max(4096),
  imageId: z.string(),
  createdAt: z.number()
})

/** What of the descriptor the line checks before a byte moves: its line, hardware and artifacts. */
function checkQemuDescriptor (init: Pick<QemuLineInit, 'nic'>, id: string, descriptor: GoldenDescriptor): void {
  if (!IMAGE_ID.test(id)) throw new GoldenImportError(id, 'its id is not a CID in base32')
  if (descriptor.line !== 'qemu') throw new GoldenImportError(id, `it was made by the ${descriptor.line} line`)
  const problem = hardwareProblem(qemuCapabilities(init), 'qemu', descriptor.hardware)
  if (problem !== undefined) throw new GoldenImportError(id, `its hardware does not fit: ${problem}`)
  const names = descriptor.artifacts.map((a) => a.name)
  const unknown = names.filter((n) => !(n in QEMU_ARTIFACTS))
  if (unknown.length > 0) throw new GoldenImportError(id, `it has artifacts a QEMU golden has not: ${unknown.join(', ')}`)
  const missing = Object.entries(QEMU_ARTIFACTS).filter(([n, required]) => required && !names.includes(n)).map(([n]) => n)
  if (missing.length > 0) throw new GoldenImportError(id, `it lacks the artifacts ${missing.join(', ')}`)
}

/** A verified staging folder becomes the golden's folder, unless one of the same id is there already. */
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

export function qemuGoldenImporter (init: Pick<QemuLineInit, 'goldenDir' | 'nic' | 'accel'>): QemuGoldenImporter {
  const staging = (id: string): string => join(init.goldenDir, STAGING + id)

  const checkDescriptor = (id: string, descriptor: GoldenDescriptor): void => { checkQemuDescriptor(init, id, descriptor) }

  /** golden.json against the descriptor and this host: machine model, memory, acceleration */
  const checkMeta = async (id: string, descriptor: GoldenDescriptor, path: string): Promise<GoldenMeta> => {
    let meta
    try {
      meta = metaSchema.parse(JSON.parse(await readFile(path, 'utf8')))
    } catch (err) {
      throw new GoldenImportError(id, `its ${GOLDEN_FILES.meta} is not a QEMU golden's: ${(err as Error).message.slice(0, 300)}`, { cause: err })
    }
    if (meta.version !== MACHINE_MODEL) throw new GoldenImportError(id, `it has machine model ${meta.version}, this line clones model ${MACHINE_MODEL} (its devices differ)`)
    const hw = descriptor.hardware
    if (meta.memoryMB !== hw.memoryMB || meta.hardware.arch !== hw.arch || meta.hardware.os !== hw.os) {
      throw new GoldenImportError(id, `its ${GOLDEN_FILES.meta} says ${meta.hardware.arch}/${meta.hardware.os} with ${meta.memoryMB} MB, its descriptor ${hw.arch}/${hw.os} with ${hw.memoryMB} MB`)
    }
    if (meta.accel === 'kvm' && (init.accel === 'tcg' || !await kvmUsable())) throw new GoldenImportError(id, 'it was checkpointed under KVM, and this host runs QEMU under TCG')
    return meta as GoldenMeta
  }

  return {
    line: 'qemu',

    async stage (id, descriptor, options = {}) {
      options.signal?.throwIfAborted()
      checkDescriptor(id, descriptor)
      const dir = staging(id)
      await mkdir(dir, { recursive: true })
      await claimBuildDir(dir)
      return { dir, files: transferOrder(descriptor).map((name) => ({ name, file: QEMU_ARTIFACTS[name]?.file ?? name })) }
    },

    async received (id, descriptor, name, path, options = {}) {
      options.signal?.throwIfAborted()
      // the metadata comes first: a golden of another model is refused before its RAM moves
      if (name === 'meta') await checkMeta(id, descriptor, path)
    },

    async commit (id, descriptor, options = {}) {
      options.signal?.throwIfAborted()
      checkDescriptor(id, descriptor)
      const dir = staging(id)
      const expected = new Map(descriptor.artifacts.map((a) => [QEMU_ARTIFACTS[a.name]?.file as string, a]))
      await releaseBuildDir(dir)
      for (const entry of await readdir(dir)) {
        // nothing but the descriptor's files goes where clones map them (no `.part` left over)
        if (!expected.has(entry)) await rm(join(dir, entry), { recursive: true, force: true })
      }
      for (const [file, artifact] of expected) {
        const path = join(dir, file)
        const actual = await digestFile(path, options).catch((err: unknown) => { throw new GoldenImportError(id, `its ${artifact.name} was not received`, { cause: err }) })
        if (actual.sha256 !== artifact.sha256 || actual.bytes !== artifact.bytes) throw new GoldenImportError(id, `its ${artifact.name} (${file}) hashes to ${actual.sha256} (${actual.bytes} bytes), its descriptor says ${artifact.sha256} (${artifact.bytes} bytes)`)
      }
      const meta = await checkMeta(id, descriptor, join(dir, GOLDEN_FILES.meta))
      const target = join(init.goldenDir, id)
      await moveIntoPlace(dir, target, options)
      log('imported golden %s (machine model %d, %s) into %s', id, meta.version, meta.accel, target)
      return {
        id,
        line: 'qemu',
        hardware: { ...descriptor.hardware },
        applied: [...descriptor.applied],
        dir: target,
        artifacts: Object.fromEntries(descriptor.artifacts.map((a) => [a.name, QEMU_ARTIFACTS[a.name]?.file as string])),
        createdAt: meta.createdAt
      }
    },

    async discard (id, options = {}) {
      options.signal?.throwIfAborted()
      if (!IMAGE_ID.test(id)) return
      await rm(staging(id), { recursive: true, force: true })
    }
  }
}

/** Removes the staging folders of imports whose plant was killed. */
export async function removeAbandonedImports (goldenDir: string, options: AbortOptions = {}): Promise<void> {
  for (const dir of await abandonedBuildDirs(goldenDir, STAGING, options)) {
    log('removed the golden import %s that a killed plant left', dir)
    await rm(dir, { recursive: true, force: true })
  }
}

async function kvmUsable (): Promise<boolean> {
  return await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false)
}
