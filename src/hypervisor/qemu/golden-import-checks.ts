import { constants } from 'node:fs'
import { access, readFile } from 'node:fs/promises'
import { z } from 'zod'
import { errorMessage, hardwareProblem, type GoldenDescriptor } from '../../interface/index.js'
import { qemuCapabilities } from './capabilities.js'
import { GoldenImportError } from './errors.js'
import { GOLDEN_FILES, MACHINE_MODEL, type GoldenMeta } from './golden.js'
import { QEMU_ARTIFACTS } from './golden-export.js'
import type { QemuLineInit } from './init.js'

/** What of the line the checks of an imported golden read. */
export type ImportChecksInit = Pick<QemuLineInit, 'nic' | 'accel'>

/** an image id as a folder name: a CID in base32 */
export const IMAGE_ID = /^[a-z2-7]{8,128}$/

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

/** What of the descriptor the line checks before a byte moves: its id, line, hardware and artifacts. */
export function checkDescriptor (init: ImportChecksInit, id: string, descriptor: GoldenDescriptor): void {
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

/** golden.json against the descriptor and this host: machine model, memory, acceleration. */
export async function checkMeta (init: ImportChecksInit, id: string, descriptor: GoldenDescriptor, path: string): Promise<GoldenMeta> {
  let meta
  try {
    meta = metaSchema.parse(JSON.parse(await readFile(path, 'utf8')))
  } catch (err) {
    throw new GoldenImportError(id, `its ${GOLDEN_FILES.meta} is not a QEMU golden's: ${errorMessage(err).slice(0, 300)}`, { cause: err })
  }
  if (meta.version !== MACHINE_MODEL) throw new GoldenImportError(id, `it has machine model ${meta.version}, this line clones model ${MACHINE_MODEL} (its devices differ)`)
  const hw = descriptor.hardware
  if (meta.memoryMB !== hw.memoryMB || meta.hardware.arch !== hw.arch || meta.hardware.os !== hw.os) {
    throw new GoldenImportError(id, `its ${GOLDEN_FILES.meta} says ${meta.hardware.arch}/${meta.hardware.os} with ${meta.memoryMB} MB, its descriptor ${hw.arch}/${hw.os} with ${hw.memoryMB} MB`)
  }
  if (meta.accel === 'kvm' && (init.accel === 'tcg' || !await kvmUsable())) throw new GoldenImportError(id, 'it was checkpointed under KVM, and this host runs QEMU under TCG')
  return meta as GoldenMeta
}

async function kvmUsable (): Promise<boolean> {
  return await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false)
}
