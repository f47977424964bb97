import { z } from 'zod'
import { domainSchema } from '../../../interface/index.js'

/** Wire name of the tunnel; the version is part of it, so peers of different versions refuse each other. */
export const VNET_PROTOCOL = '/vmplant/vnet/1.0.0'

/** @default 64 KiB: the opening message is a domain name and a credential, never more */
export const MAX_OPEN_BYTES = 64 * 1024

/**
 * An Ethernet frame on the tunnel: at most a 64 KiB tap MTU plus its header. A UDP datagram
 * (the tap's channel to socat) holds no more anyway.
 */
export const MAX_FRAME_BYTES = 65_535

/** Shorter than an Ethernet header: not a frame. */
export const MIN_FRAME_BYTES = 14

/** The client's first message on a new stream: which domain's network, and the credential for it. */
export const openSchema = z.strictObject({
  type: z.literal('vnet.open'),
  domain: domainSchema,
  /** checked by the plant's `authorize`; its shape belongs to the domain credentials */
  credential: z.unknown()
})
export type VnetOpen = z.output<typeof openSchema>

/** The plant's answer; after an `ok` both sides send length-prefixed Ethernet frames until the stream ends. */
export const answerSchema = z.union([
  z.strictObject({ ok: z.literal(true) }),
  z.strictObject({ ok: z.literal(false), error: z.strictObject({ code: z.string().max(100), message: z.string().max(10_000) }) })
])
export type VnetAnswer = z.output<typeof answerSchema>
