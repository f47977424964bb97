import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createDescriptor, goldenId, type GoldenArtifact, type GoldenDescriptor } from '../planner/index.js'
import { digestFile, type AbortOptions, type GoldenImage } from '../interface/index.js'
import { MissingArtifactError } from './errors.js'

/** The disk size an image is described with when its line does not say. */
export const DEFAULT_IMAGE_DISK_MB = 1024

/** A line's golden image described by its files' digests: the descriptor, and its id (content hash). */
export async function describeGolden (golden: GoldenImage, options: AbortOptions = {}): Promise<{ id: string, descriptor: GoldenDescriptor }> {
  const artifacts: GoldenArtifact[] = []
  for (const [name, file] of Object.entries(golden.artifacts).sort(([a], [b]) => a.localeCompare(b))) {
    const path = join(golden.dir, file)
    try {
      await stat(path)
    } catch (err: unknown) {
      throw new MissingArtifactError(`golden image artifact ${name} is missing at ${path}`, { cause: err })
    }
    artifacts.push({ name, ...(await digestFile(path, options)) })
  }
  const { arch, os, memoryMB, diskMB } = golden.hardware
  const descriptor = createDescriptor({ line: golden.line, hardware: { arch, os, memoryMB, diskMB: diskMB ?? DEFAULT_IMAGE_DISK_MB }, applied: golden.applied, artifacts })
  return { id: goldenId(descriptor), descriptor }
}
