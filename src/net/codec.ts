import type { z } from 'zod'
import { MalformedMessageError } from './errors.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * How deep a message's JSON may nest. A spec nests about 8 levels; anything much deeper would
 * only overflow the stack of the recursive code behind the decoder (hashing a spec for its
 * signature, printing it), and a 1 MiB frame of `[` nests 500,000 deep.
 */
export const MAX_JSON_DEPTH = 64

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
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw new MalformedMessageError(`${what} nests deeper than ${MAX_JSON_DEPTH} levels`)
  return checkMessage(value, schema, what)
}

/** Checks a decoded value against its schema; the error names the first offending field. */
export function checkMessage<S extends z.ZodType> (value: unknown, schema: S, what: string): z.output<S> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = formatPath(issue?.path ?? [])
    throw new MalformedMessageError(`${what} is malformed${path !== '' ? ` at ${path}` : ''}: ${issue?.message ?? 'invalid'}`)
  }
  return parsed.data
}

/** `outputs.net.exitCode`, `vms.0.state`; a key that is not a plain name is quoted, `outputs[":"]`, so the path stays unambiguous */
function formatPath (path: PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'string' && !/^[A-Za-z_$][\w$-]*$/.test(key)) out += `[${JSON.stringify(key).slice(0, 100)}]`
    else out += `${out === '' ? '' : '.'}${String(key)}`
  }
  return out
}

/** without recursion, so that the check itself cannot overflow the stack */
function nestsDeeperThan (value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number]
    if (v === null || typeof v !== 'object') continue
    if (depth > max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
  }
  return false
}
