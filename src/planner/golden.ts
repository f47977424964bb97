import { createHash } from 'node:crypto'
import { z } from 'zod'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { InvalidDescriptorError } from './errors.js'
import { canonicalJson, actionIdentity } from './identity.js'
import type { GoldenArtifact, GoldenDescriptor, ImageHardware } from '../interface/index.js'
import { SPEC_LIMITS, formatPath, describeIssue, type ErrorActionSpec } from './spec.js'

/** Limits on a descriptor, checked before a peer's descriptor is believed. */
export const GOLDEN_LIMITS = {
  maxApplied: SPEC_LIMITS.maxActions,
  maxArtifacts: 64,
  maxNameLength: 64
} as const

const GOLDEN_FORMAT: GoldenDescriptor['format'] = 'vmplant.golden/1'
/** multicodec `json` and multihash `sha2-256` */
const JSON_CODEC = 0x0200
const SHA2_256 = 0x12

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const HEX64 = /^[0-9a-f]{64}$/

const imageHardwareSchema = z.strictObject({
  arch: z.string().min(1).max(32),
  os: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a lower-case name such as "linux"'),
  memoryMB: z.number().int().min(SPEC_LIMITS.minMemoryMB).max(SPEC_LIMITS.maxMemoryMB),
  diskMB: z.number().int().min(1).max(4_194_304)
})

const artifactSchema = z.strictObject({
  /** file name beside the store: no folders, so a peer cannot point outside it */
  name: z.string().min(1).max(GOLDEN_LIMITS.maxNameLength).regex(NAME_PATTERN, 'must be a plain file name (letters, digits, "_", "." or "-")'),
  sha256: z.string().regex(HEX64, 'must be 64 lower-case hex digits'),
  bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
})

const descriptorSchema = z.strictObject({
  format: z.literal(GOLDEN_FORMAT),
  line: z.string().min(1).max(32).regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a production line kind such as "qemu"'),
  hardware: imageHardwareSchema,
  applied: z.array(z.string().regex(HEX64, 'must be an action identity (64 lower-case hex digits)')).max(GOLDEN_LIMITS.maxApplied),
  artifacts: z.array(artifactSchema).max(GOLDEN_LIMITS.maxArtifacts)
})

/** The descriptor's types are the contract's (src/interface/golden.ts); the schemas above check them. */
export type { ImageHardware, GoldenArtifact, GoldenDescriptor }

/** What `createDescriptor` needs; `applied` may be given as actions or as their identities. */
export interface GoldenDescriptorInit {
  line: string
  hardware: ImageHardware
  applied: Array<ErrorActionSpec | string>
  artifacts: GoldenArtifact[]
}

/** Builds and validates a descriptor. Throws InvalidDescriptorError. */
export function createDescriptor (init: GoldenDescriptorInit): GoldenDescriptor {
  return validateDescriptor({
    format: GOLDEN_FORMAT,
    line: init.line,
    hardware: init.hardware,
    applied: init.applied.map((a) => typeof a === 'string' ? a : actionIdentity(a)),
    artifacts: init.artifacts
  })
}

/**
 * Parses a descriptor from an untrusted source (a peer, the store). Unknown fields, bad
 * digests, folder names, repeated artifacts and oversized lists are refused with
 * InvalidDescriptorError naming the field.
 */
export function validateDescriptor (input: unknown): GoldenDescriptor {
  const parsed = descriptorSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new InvalidDescriptorError(formatPath(issue?.path ?? []), describeIssue(issue))
  }
  const names = new Map<string, number>()
  parsed.data.artifacts.forEach((artifact, i) => {
    const first = names.get(artifact.name)
    if (first !== undefined) throw new InvalidDescriptorError(`artifacts[${i}].name`, `"${artifact.name}" is already used by artifacts[${first}]`)
    names.set(artifact.name, i)
  })
  return parsed.data
}

/** The CID (v1, json codec, sha2-256) of the descriptor's canonical JSON: what plants provide on the DHT. */
export function goldenCid (descriptor: GoldenDescriptor): CID {
  const bytes = createHash('sha256').update(canonicalJson(descriptor)).digest()
  return CID.createV1(JSON_CODEC, Digest.create(SHA2_256, bytes))
}

/** The image's id: its descriptor's CID as a string. */
export function goldenId (descriptor: GoldenDescriptor): string {
  return goldenCid(descriptor).toString()
}

/**
 * Validates a descriptor announced under `id` and checks that it hashes to that id, so a
 * peer cannot pass one image off as another. Throws InvalidDescriptorError.
 */
export function verifyDescriptor (input: unknown, id: string): GoldenDescriptor {
  const descriptor = validateDescriptor(input)
  const actual = goldenId(descriptor)
  if (actual !== id) throw new InvalidDescriptorError('', `content hash is ${actual}, not the announced ${id}`)
  return descriptor
}

/** Total bytes of the image's artifacts: what a full copy would move. */
export function artifactBytes (descriptor: GoldenDescriptor): number {
  return descriptor.artifacts.reduce((sum, a) => sum + a.bytes, 0)
}
