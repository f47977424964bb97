import fc from 'fast-check'

/**
 * Structure-aware mutations: start from a valid message or document and break one thing at a time
 * (a field's value, type, length or nesting, a key, the bytes of its encoding), so that the
 * inputs get past the first check and reach the deeper ones.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const encoder = new TextEncoder()

/** keys that pollute prototypes when code copies them with plain assignment */
export const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf']

/** numbers at the edges: huge, tiny, negative zero, past 2^53, fractions where integers go */
const nastyNumber = fc.constantFrom(0, -0, -1, 0.5, 1e308, -1e308, 5e-324, 2 ** 53 + 2, -(2 ** 53) - 2, 2 ** 53 - 1, 8.64e15 + 1, 9e15, 2 ** 31, 2 ** 32, 4294967296 * 1024, 1e21, 123456789012345680000)

/** strings at the edges: empty, long, control characters, lone surrogates, right-to-left, NUL, keys that pollute */
const nastyString = fc.oneof(
  fc.constantFrom('', ' ', '\u0000', '\u202e', '\ud800', '\udfff', 'é', '\u{1f600}', '\r\n', '../../etc/passwd', '%s%n', '${x}', '1e999', 'NaN', 'null', 'true', '0x10', ...POLLUTING_KEYS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer({ min: 65, max: 70_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 1, max: 300 }).map((n) => '\u00e9\u{1f600}'.repeat(n))
)

/** any JSON value, small */
export const anyJson: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>

/** a value to put where another was: of any type, or at an edge of its own */
const replacement: fc.Arbitrary<Json> = fc.oneof(
  { arbitrary: anyJson, weight: 3 },
  { arbitrary: nastyNumber, weight: 3 },
  { arbitrary: nastyString, weight: 3 },
  { arbitrary: fc.constantFrom<Json>(null, true, false, [], {}), weight: 2 },
  { arbitrary: fc.integer({ min: 10, max: 5000 }).map((d) => nest(d)), weight: 1 }
)

/**
 * `[[[...]]]` d deep. Deeper than JSON.stringify can recurse, so it stands as a marker string
 * until `jsonBytes` writes it out.
 */
export function nest (depth: number): Json {
  return `\u0000nest:${depth}\u0000`
}

const NEST_MARKER = /"\\u0000nest:(\d+)\\u0000"/g

type Mutation =
  | { kind: 'replace', at: number, value: Json }
  | { kind: 'delete', at: number }
  | { kind: 'add-key', at: number, key: string, value: Json }
  | { kind: 'repeat', at: number, times: number }
  | { kind: 'wrap', at: number, inArray: boolean }
  | { kind: 'numeric-string', at: number }

const mutationOf = (maxRepeat: number): fc.Arbitrary<Mutation> => fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: replacement }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('add-key' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...POLLUTING_KEYS), fc.string({ maxLength: 12 })), value: replacement }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), times: fc.oneof(fc.integer({ min: 2, max: Math.min(40, maxRepeat) }), fc.integer({ min: Math.min(40, maxRepeat), max: maxRepeat })) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('wrap' as const), at: fc.nat(), inArray: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('numeric-string' as const), at: fc.nat() }), weight: 1 }
)

/** every place in a value, as [container, key] pairs (the root is [holder, 'v']) */
function places (holder: { v: Json }): Array<[any, string | number]> {
  const out: Array<[any, string | number]> = [[holder, 'v']]
  const stack: Json[] = [holder.v]
  while (stack.length > 0) {
    const value = stack.pop()
    if (Array.isArray(value)) value.forEach((child, i) => { out.push([value, i]); stack.push(child) })
    else if (value !== null && typeof value === 'object') for (const key of Object.keys(value)) { out.push([value, key]); stack.push(value[key] as Json) }
  }
  return out
}

/** sets an own property, even `__proto__`, as JSON.parse would */
function setOwn (object: any, key: string | number, value: Json): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
}

/** a deep copy that keeps own `__proto__` keys as keys (generated values are shared between runs, so they are copied before use) */
function clone (value: Json): Json {
  if (Array.isArray(value)) return value.map(clone)
  if (value === null || typeof value !== 'object') return value
  const out = {}
  for (const key of Object.keys(value)) setOwn(out, key, clone(value[key] as Json))
  return out
}

function apply (holder: { v: Json }, m: Mutation): void {
  const all = places(holder)
  const [container, key] = all[m.at % all.length] as [any, string | number]
  const current = container[key] as Json
  switch (m.kind) {
    case 'replace': setOwn(container, key, clone(m.value)); break
    case 'delete':
      if (Array.isArray(container)) container.splice(key as number, 1)
      else if (container !== holder) delete container[key]
      break
    case 'add-key':
      if (current !== null && typeof current === 'object' && !Array.isArray(current)) setOwn(current, m.key, clone(m.value))
      else if (Array.isArray(current)) current.push(clone(m.value))
      break
    case 'repeat': {
      // at most about 4 MB, four times the largest wire limit: enough to pass every limit, short of V8's string limit
      const size = JSON.stringify(current)?.length ?? 1
      const times = Math.max(1, Math.min(m.times, Math.floor(4_000_000 / Math.max(1, size))))
      if (Array.isArray(current) && current.length > 0) setOwn(container, key, Array.from({ length: times }, (_, i) => clone(current[i % current.length] as Json)))
      else if (typeof current === 'string') setOwn(container, key, current.repeat(times))
      break
    }
    case 'wrap': setOwn(container, key, m.inArray ? [current] : { v: current }); break
    case 'numeric-string':
      if (typeof current === 'number') setOwn(container, key, String(current))
      else if (typeof current === 'string' && current !== '' && Number.isFinite(Number(current))) setOwn(container, key, Number(current))
      else if (typeof current === 'boolean') setOwn(container, key, current ? 1 : 0)
      break
  }
}

const mutations = new Map<number, fc.Arbitrary<Mutation>>()

/**
 * The seed with 1 to 3 mutations. `maxRepeat`: how many copies a list may be blown up to
 * (@default 20000, enough to pass a wire limit).
 */
export function mutated (seed: Json, options: { maxRepeat?: number } = {}): fc.Arbitrary<Json> {
  const maxRepeat = options.maxRepeat ?? 20_000
  let mutation = mutations.get(maxRepeat)
  if (mutation === undefined) { mutation = mutationOf(maxRepeat); mutations.set(maxRepeat, mutation) }
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => {
    const holder = { v: clone(seed) }
    for (const m of ms) apply(holder, m)
    return holder.v
  })
}

export function jsonBytes (value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value).replace(NEST_MARKER, (_, depth: string) => '['.repeat(Number(depth)) + ']'.repeat(Number(depth))))
}

type ByteMutation =
  | { kind: 'truncate', at: number }
  | { kind: 'flip', at: number, bit: number }
  | { kind: 'insert', at: number, bytes: Uint8Array }
  | { kind: 'pad', bytes: number }
  | { kind: 'duplicate-key' }

const invalidUtf8 = fc.constantFrom(Uint8Array.of(0xff), Uint8Array.of(0xc3), Uint8Array.of(0xc0, 0xaf), Uint8Array.of(0xed, 0xa0, 0x80), Uint8Array.of(0xf4, 0x90, 0x80, 0x80), Uint8Array.of(0xef, 0xbb, 0xbf), Uint8Array.of(0))

/**
 * Mutations of the encoding itself: truncated or padded frames, flipped bits, invalid UTF-8, a
 * byte-order mark, a key written twice. `limit` is the decoder's size limit, so that padding
 * lands just past it.
 */
export function mutatedBytes (bytes: Uint8Array, limit: number): fc.Arbitrary<Uint8Array> {
  const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.oneof(invalidUtf8, fc.uint8Array({ maxLength: 8 })) }),
    fc.record({ kind: fc.constant('pad' as const), bytes: fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 64 })) }),
    fc.constant({ kind: 'duplicate-key' as const })
  )
  return byteMutation.map((m) => {
    switch (m.kind) {
      case 'truncate': return bytes.subarray(0, m.at % (bytes.byteLength + 1))
      case 'flip': {
        const out = Uint8Array.from(bytes)
        if (out.byteLength > 0) out[m.at % out.byteLength]! ^= 1 << m.bit
        return out
      }
      case 'insert': {
        const at = m.at % (bytes.byteLength + 1)
        return concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at))
      }
      case 'pad': {
        // whitespace keeps the JSON valid: only the size limit may refuse it
        const spaces = Math.max(0, limit - bytes.byteLength + m.bytes)
        return concat(bytes, new Uint8Array(spaces).fill(0x20))
      }
      case 'duplicate-key': {
        // `{"type":"x",...}` -> `{"type":"x","type":"x",...}`: JSON.parse keeps the last
        const text = new TextDecoder().decode(bytes)
        const match = /^\{("[^"\\]*":("[^"\\]*"|[0-9a-z.]+)),/.exec(text)
        return match !== null ? encoder.encode(`{${match[1]!},${text.slice(1)}`) : bytes
      }
    }
  })
}

function concat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.byteLength }
  return out
}

/**
 * Inputs for a decoder of JSON frames: mostly mutations of the valid seeds (as values, then
 * sometimes as bytes), some random JSON and some random bytes.
 */
export function frames (seeds: Json[], limit: number): fc.Arbitrary<Uint8Array> {
  const seed = fc.constantFrom(...seeds)
  const value = fc.oneof({ arbitrary: seed, weight: 1 }, { arbitrary: seed.chain((s) => mutated(s)), weight: 8 })
  return fc.oneof(
    { arbitrary: value.map(jsonBytes), weight: 10 },
    { arbitrary: value.map(jsonBytes).chain((b) => mutatedBytes(b, limit)), weight: 4 },
    { arbitrary: anyJson.map(jsonBytes), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 1 }
  )
}
