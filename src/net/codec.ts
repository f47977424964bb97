import type { z } from 'zod'
import { MalformedMessageError } from './errors.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeJson (value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value))
}

/**
 * Decodes a JSON message and checks it against its schema. The byte limit is checked before
 * anything is parsed, so an oversized message costs nothing but its rejection.
 */
export function decodeJson<S extends z.ZodType> (bytes: Uint8Array, schema: S, maxBytes: number, what: string): z.output<S> {
  if (bytes.byteLength > maxBytes) throw new MalformedMessageError(`${what} of ${bytes.byteLength} bytes is over the limit of ${maxBytes}`)
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch (err) {
    throw new MalformedMessageError(`${what} is not valid UTF-8 JSON`, { cause: err })
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue?.path.map(String).join('.') ?? ''
    throw new MalformedMessageError(`${what} is malformed${path !== '' ? ` at ${path}` : ''}: ${issue?.message ?? 'invalid'}`)
  }
  return parsed.data
}
