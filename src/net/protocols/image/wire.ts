import { z } from 'zod'
import { GOLDEN_LIMITS } from '../../../planner/index.js'

/** Size limits of the image protocol's frames, checked before a frame is decoded. */
export const IMAGE_WIRE_LIMITS = {
  /** a request is an id, a name and a number */
  maxRequestBytes: 4 * 1024,
  /** the artifact header frame */
  maxHeaderBytes: 4 * 1024,
  /** a descriptor, or up to `maxImagesPerAnswer` of them */
  maxAnswerBytes: 1024 * 1024,
  maxImagesPerAnswer: 16,
  /** raw artifact bytes are sent in pieces of at most this */
  chunkBytes: 256 * 1024
} as const

/** A CID string as `goldenId` and `prefixKey(...).toString()` print it (base32, lower case). */
const cidSchema = z.string().min(8).max(128).regex(/^[a-z2-7]+$/, 'must be a base32 CID')
const nameSchema = z.string().min(1).max(GOLDEN_LIMITS.maxNameLength).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a plain artifact name')

export const imageRequestSchema = z.discriminatedUnion('type', [
  /** the image's descriptor, which the requester checks against `id` */
  z.strictObject({ type: z.literal('descriptor'), id: cidSchema }),
  /** ids and descriptors of the images the peer provides under a prefix key */
  z.strictObject({ type: z.literal('images'), key: cidSchema }),
  /** one artifact's bytes from `offset` on: a header frame, then raw bytes */
  z.strictObject({ type: z.literal('artifact'), id: cidSchema, name: nameSchema, offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })
])
export type ImageRequest = z.output<typeof imageRequestSchema>

/** Plain file names the holder keeps each artifact under; a line such as qemu finds its files by these names. */
const filesSchema = z.record(nameSchema, nameSchema)

/** `descriptor` is unknown until `verifyDescriptor` has checked it against the id. */
export const descriptorAnswerSchema = z.strictObject({ descriptor: z.unknown(), files: filesSchema })
export type DescriptorAnswer = z.output<typeof descriptorAnswerSchema>

export const imagesAnswerSchema = z.strictObject({
  images: z.array(z.strictObject({ id: cidSchema, descriptor: z.unknown() })).max(IMAGE_WIRE_LIMITS.maxImagesPerAnswer)
})
export type ImagesAnswer = z.output<typeof imagesAnswerSchema>

/** What precedes an artifact's raw bytes: `bytes - offset` of them follow, then the stream ends. */
export const artifactHeaderSchema = z.strictObject({
  id: cidSchema,
  name: nameSchema,
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
})
export type ArtifactHeader = z.output<typeof artifactHeaderSchema>

/** Every answer frame, as `rpc.ts` frames them: `{ok, value}` or `{ok: false, error}`. */
export const answerFrameSchema = z.union([
  z.strictObject({ ok: z.literal(true), value: z.unknown() }),
  z.strictObject({ ok: z.literal(false), error: z.strictObject({ code: z.string().max(100), message: z.string().max(10_000) }) })
])
