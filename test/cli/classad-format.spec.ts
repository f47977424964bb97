import test from 'ava'
import fc from 'fast-check'
import { ACTION_FIELDS, CLASSAD_BUILTINS, classadName, formatClassad } from '../../src/cli/classad-format.js'
import type { Classad } from '../../src/interface/messages.js'

// ---------------------------------------------------------------------------------------------
// A strict parser for the part of HTCondor's new ClassAd syntax that formatClassad prints: a
// record of `Name = literal;` where a literal is a string, a number, true/false, undefined, error,
// a list `{ ... }` or a nested record `[ ... ]`. It follows HTCondor's lexer (src/classad/lexer.cpp,
// util.cpp convert_escapes, source.cpp parseClassAd) and is stricter where HTCondor accepts
// something formatClassad must not print: a second attribute of the same name, ignoring case
// (HTCondor silently keeps the last), an attribute named like a scope (parent, my, target), raw
// control characters in strings, escapes HTCondor passes through unchanged, adjacent strings
// (which HTCondor joins), octal or suffixed numbers, and attribute references or operators.
// ---------------------------------------------------------------------------------------------

type Value = string | number | boolean | null | { error: true } | Value[] | Ad
/** attributes by lower-case name, in the order they were written */
type Ad = Map<string, { name: string, value: Value }>

class ClassadSyntaxError extends Error {
  constructor (message: string, at: number) {
    super(`${message} at offset ${at}`)
    this.name = 'ClassadSyntaxError'
  }
}

/** reserved by HTCondor's lexer, ignoring case: never an identifier */
const RESERVED = new Set(['true', 'false', 'undefined', 'error', 'is', 'isnt'])
/** scope names in attribute references (`MY.x`, `TARGET.x`, `parent.x`): an attribute so named is shadowed */
const SCOPES = new Set(['parent', 'my', 'target'])

type Token =
  | { kind: 'punct', text: '[' | ']' | '{' | '}' | '=' | ';' | ',', at: number }
  | { kind: 'ident', text: string, at: number }
  | { kind: 'reserved', text: string, at: number }
  | { kind: 'string', value: string, at: number }
  | { kind: 'number', value: number, at: number }
  | { kind: 'end', at: number }

const SIMPLE_ESCAPES: { [c: string]: number } = { '"': 0x22, "'": 0x27, '?': 0x3f, a: 0x07, b: 0x08, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b, '\\': 0x5c }
const encoder = new TextEncoder()

function tokenize (text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const isSpace = (c: string | undefined): boolean => c !== undefined && /[ \t\n\r\f\v]/.test(c)
  while (true) {
    while (isSpace(text[i])) i++
    const at = i
    const c = text[i]
    if (c === undefined) { tokens.push({ kind: 'end', at }); return tokens }
    if ('[]{};,'.includes(c)) { tokens.push({ kind: 'punct', text: c as '[', at }); i++; continue }
    if (c === '=') {
      if ('=?!'.includes(text[i + 1] ?? ' ')) throw new ClassadSyntaxError('an operator where "=" was expected', at)
      tokens.push({ kind: 'punct', text: '=', at }); i++; continue
    }
    if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0] as string
      i += word.length
      tokens.push(RESERVED.has(word.toLowerCase()) ? { kind: 'reserved', text: word.toLowerCase(), at } : { kind: 'ident', text: word, at })
      continue
    }
    if (/[-0-9]/.test(c)) {
      const number = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i))?.[0]
      if (number === undefined || number === '-') throw new ClassadSyntaxError('a malformed number', at)
      i += number.length
      // a digit after a leading 0 would make HTCondor read octal, a letter a size factor (5K, 2M)
      if (/[A-Za-z0-9_.]/.test(text[i] ?? ' ')) throw new ClassadSyntaxError(`a number "${number}" run into "${text[i]}"`, at)
      tokens.push({ kind: 'number', value: Number(number), at })
      continue
    }
    if (c === '"') {
      const bytes: number[] = []
      i++
      while (true) {
        const d = text[i]
        if (d === undefined) throw new ClassadSyntaxError('an unterminated string', at)
        if (d === '"') { i++; break }
        const code = text.codePointAt(i) as number
        if (code < 0x20 || code === 0x7f || (code >= 0x80 && code <= 0x9f)) throw new ClassadSyntaxError(`a raw control character U+${code.toString(16)} in a string`, i)
        if (d !== '\\') {
          const char = String.fromCodePoint(code)
          bytes.push(...encoder.encode(char))
          i += char.length
          continue
        }
        const e = text[i + 1]
        if (e === undefined) throw new ClassadSyntaxError('a backslash at the end of the input', i)
        if (SIMPLE_ESCAPES[e] !== undefined) { bytes.push(SIMPLE_ESCAPES[e] as number); i += 2; continue }
        if (/[0-7]/.test(e)) {
          // HTCondor: up to three octal digits, the third only while the value is below 0x20
          let value = Number(e)
          let j = i + 2
          if (/[0-7]/.test(text[j] ?? '')) {
            value = value * 8 + Number(text[j]); j++
            if (value < 0x20 && /[0-7]/.test(text[j] ?? '')) { value = value * 8 + Number(text[j]); j++ }
          }
          if (value === 0) throw new ClassadSyntaxError('a NUL escape, which ClassAd strings cannot hold', i)
          bytes.push(value)
          i = j
          continue
        }
        throw new ClassadSyntaxError(`an unknown escape "\\${e}"`, i)
      }
      let value: string
      try {
        value = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes))
      } catch {
        throw new ClassadSyntaxError('a string that is not UTF-8', at)
      }
      let k = i
      while (isSpace(text[k])) k++
      if (text[k] === '"') throw new ClassadSyntaxError('adjacent strings, which HTCondor joins into one', k)
      tokens.push({ kind: 'string', value, at })
      continue
    }
    throw new ClassadSyntaxError(`an unexpected character "${c}"`, at)
  }
}

/** Parses a whole ClassAd; throws ClassadSyntaxError where HTCondor would fail or be misled. */
function parseClassad (text: string): Ad {
  const tokens = tokenize(text)
  let p = 0
  const peek = (): Token => tokens[p] as Token
  const next = (): Token => tokens[p++] as Token
  const expect = (text: string): void => {
    const token = next()
    if (token.kind !== 'punct' || token.text !== text) throw new ClassadSyntaxError(`expected "${text}"`, token.at)
  }
  const isPunct = (token: Token, text: string): boolean => token.kind === 'punct' && token.text === text

  function record (): Ad {
    expect('[')
    const attrs: Ad = new Map()
    while (!isPunct(peek(), ']')) {
      const token = next()
      if (isPunct(token, ';')) continue
      if (token.kind === 'reserved') throw new ClassadSyntaxError(`the reserved word "${token.text}" as an attribute name`, token.at)
      if (token.kind !== 'ident') throw new ClassadSyntaxError('expected an attribute name', token.at)
      const key = token.text.toLowerCase()
      if (SCOPES.has(key)) throw new ClassadSyntaxError(`the scope name "${token.text}" as an attribute name`, token.at)
      if (attrs.has(key)) throw new ClassadSyntaxError(`a second attribute "${token.text}" (first "${attrs.get(key)?.name}"), names ignoring case`, token.at)
      expect('=')
      attrs.set(key, { name: token.text, value: value() })
      const after = peek()
      if (!isPunct(after, ';') && !isPunct(after, ']')) throw new ClassadSyntaxError('expected ";" or "]"', after.at)
    }
    expect(']')
    return attrs
  }

  function list (): Value[] {
    expect('{')
    const items: Value[] = []
    while (!isPunct(peek(), '}')) {
      items.push(value())
      if (isPunct(peek(), ',')) next()
      else if (!isPunct(peek(), '}')) throw new ClassadSyntaxError('expected "," or "}"', peek().at)
    }
    expect('}')
    return items
  }

  function value (): Value {
    const token = peek()
    if (isPunct(token, '[')) return record()
    if (isPunct(token, '{')) return list()
    next()
    switch (token.kind) {
      case 'string': case 'number': return token.value
      case 'reserved':
        if (token.text === 'true' || token.text === 'false') return token.text === 'true'
        if (token.text === 'undefined') return null
        if (token.text === 'error') return { error: true }
        throw new ClassadSyntaxError(`the operator "${token.text}" where a value was expected`, token.at)
      default: throw new ClassadSyntaxError('expected a literal value', token.at)
    }
  }

  const ad = record()
  const end = next()
  if (end.kind !== 'end') throw new ClassadSyntaxError('text after the classad', end.at)
  return ad
}

// ---------------------------------------------------------------------------------------------
// Undoing the documented name encoding, from the lower-cased name: if two names were equal
// ignoring case they would decode to the same id, so this shows the encoding is one-to-one.
// ---------------------------------------------------------------------------------------------

function decodeName (folded: string): string {
  const bytes: number[] = []
  for (let i = 0; i < folded.length;) {
    const octal = /^_([0-3][0-7][0-7])/.exec(folded.slice(i))
    if (octal !== null) { bytes.push(parseInt(octal[1] as string, 8)); i += 4; continue }
    const c = folded[i] as string
    if (!/[a-z0-9_]/.test(c)) throw new Error(`"${c}" cannot appear in an encoded name`)
    if (c === '_' && /[0-9]/.test(folded[i + 1] ?? '')) throw new Error('an "_" before a digit must be encoded')
    bytes.push(c.charCodeAt(0))
    i++
  }
  return fromCodePointBytes(bytes)
}

/** UTF-8 to a string, strictly, except that an unpaired surrogate may have its three-byte form (WTF-8) */
function fromCodePointBytes (bytes: number[]): string {
  let out = ''
  let highSurrogate = false
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i] as number
    const [length, least] = b < 0x80 ? [1, 0] : b >= 0xc2 && b < 0xe0 ? [2, 0x80] : b >= 0xe0 && b < 0xf0 ? [3, 0x800] : b >= 0xf0 && b < 0xf5 ? [4, 0x10000] : [0, 0]
    if (length === 0) throw new Error(`byte ${b} cannot start a character`)
    let cp = length === 1 ? b : b & (0xff >> (length + 1))
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k]
      if (c === undefined || (c & 0xc0) !== 0x80) throw new Error('a character cut short')
      cp = (cp << 6) | (c & 0x3f)
    }
    if (cp < least || cp > 0x10ffff) throw new Error('an overlong or out-of-range character')
    if (highSurrogate && cp >= 0xdc00 && cp <= 0xdfff) throw new Error('a surrogate pair written as two characters')
    highSurrogate = cp >= 0xd800 && cp <= 0xdbff
    out += String.fromCodePoint(cp)
    i += length
  }
  return out
}

type Decoded = { kind: 'export', key: string } | { kind: 'action', id: string, field: typeof ACTION_FIELDS[number] }

/** What a name that is not a built-in stands for; throws when it could stand for two things or none. */
function decodeAttribute (folded: string): Decoded {
  const readings: Decoded[] = []
  if (folded.startsWith('export_')) readings.push({ kind: 'export', key: decodeName(folded.slice('export_'.length)) })
  if (folded.startsWith('action_')) {
    for (const field of ACTION_FIELDS) {
      const suffix = `_${field.toLowerCase()}`
      if (!folded.endsWith(suffix) || folded.length < 'action_'.length + suffix.length) continue
      try {
        readings.push({ kind: 'action', id: decodeName(folded.slice('action_'.length, -suffix.length)), field })
      } catch {}
    }
  }
  if (readings.length !== 1) throw new Error(`${folded} has ${readings.length} readings`)
  return readings[0] as Decoded
}

// ---------------------------------------------------------------------------------------------

const BASE: Classad = {
  vmid: 'vm-12D3KooWPlant-3f2a',
  plant: '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN',
  domain: 'mylab',
  owner: '12D3KooWHHzSeKaY8xuZVzkLbKFfvNgPPeKhFBGrMbNzbm5akpqu',
  state: 'running',
  memoryMB: 64,
  os: 'linux',
  arch: 'x86_64',
  line: 'sim',
  goldenImage: 'img-base',
  network: { name: 'mylab', index: 3 },
  nic: { mac: '52:54:00:0a:0b:0c', address: '192.168.77.10/24' },
  cost: 54.5,
  createdAt: '2025-01-02T03:04:05.678Z',
  timings: { biddingMs: 13.25, cloningMs: 4, configuringMs: 0.125, totalMs: 17.375 },
  actions: { cloned: ['os'], run: ['network', 'user'] },
  outputs: {},
  attributes: {},
  recovered: []
}

/** the built-in attributes BASE must print, by lower-case name */
const BASE_BUILTINS: { [name: string]: Value } = {
  vmid: BASE.vmid, plant: BASE.plant, domain: 'mylab', owner: BASE.owner, state: 'running', memory: 64, opsys: 'linux',
  arch: 'x86_64', productionline: 'sim', goldenimage: 'img-base', network: 'mylab', networkindex: 3, mac: '52:54:00:0a:0b:0c', ipaddress: '192.168.77.10/24', cost: 54.5,
  createdat: BASE.createdAt, biddingms: 13.25, cloningms: 4, configuringms: 0.125, totalms: 17.375, clonedactions: 'os', runactions: 'network,user'
}

const output = (exitCode: number, stdout: string, stderr = ''): Classad['outputs'][string] => ({ exitCode, stdout, stderr, durationMs: 1 })

/** What a guest string reads as after the round trip: ClassAd strings cannot hold NUL or lone surrogates. */
const printable = (s: string): string => s.replace(/\0|[\ud800-\udfff]/gu, '\ufffd')

const sameEntries = <V>(got: Map<string, V>, expected: Map<string, V>): boolean =>
  got.size === expected.size && [...expected].every(([key, value]) => got.has(key) && JSON.stringify(got.get(key)) === JSON.stringify(value))

/** Parses the printed classad and checks it against the one printed: built-ins, exports and outputs, each found once. */
function roundTrip (ad: Classad): Ad {
  const parsed = parseClassad(formatClassad(ad))
  const builtins = new Set<string>(CLASSAD_BUILTINS.map((n) => n.toLowerCase()))
  const exports = new Map<string, string>()
  const outputs = new Map<string, { [field: string]: Value }>()
  for (const [folded, { value }] of parsed) {
    if (builtins.has(folded)) continue
    const reading = decodeAttribute(folded)
    if (reading.kind === 'export') {
      if (typeof value !== 'string') throw new Error(`${folded} is not a string`)
      exports.set(reading.key, value)
    } else {
      const fields = outputs.get(reading.id) ?? {}
      fields[reading.field] = value
      outputs.set(reading.id, fields)
    }
  }
  const expectedBuiltins = { ...BASE_BUILTINS, ...(ad.recovered.length > 0 ? { recoverederrors: ad.recovered.map((r) => `${r.action}:${r.exitCode}`).join(',') } : {}) }
  const gotBuiltins = Object.fromEntries([...parsed].filter(([folded]) => builtins.has(folded)).map(([folded, { value }]) => [folded, value]))
  if (JSON.stringify(gotBuiltins) !== JSON.stringify(expectedBuiltins)) throw new Error(`built-ins changed: ${JSON.stringify(gotBuiltins)}`)
  const expectedExports = new Map(Object.entries(ad.attributes).map(([k, v]) => [k, printable(v)]))
  if (!sameEntries(exports, expectedExports)) throw new Error('exports differ')
  const expectedOutputs = new Map(Object.entries(ad.outputs).map(([id, o]) => [id, { ExitCode: o.exitCode, Stdout: printable(o.stdout), Stderr: printable(o.stderr) }]))
  if (!sameEntries(outputs, expectedOutputs)) throw new Error('outputs differ')
  return parsed
}

const get = (ad: Ad, name: string): Value | undefined => ad.get(name.toLowerCase())?.value

// --- the parser itself -----------------------------------------------------------------------

test('the test parser reads what HTCondor reads: escapes, octal bytes, numbers, lists and nested records', (t) => {
  const ad = parseClassad('[ ; A = "q\\"\\\\\\n\\t\\101\\303\\251 é"; b = -1.5e3; c = { 1, "x", [ d = true; ], undefined, error, }; e = 0;; ]')
  t.is(get(ad, 'a'), 'q"\\\n\tAé é')
  t.is(get(ad, 'B'), -1500)
  t.deepEqual(get(ad, 'c'), [1, 'x', new Map([['d', { name: 'd', value: true }]]), null, { error: true }])
  t.is(get(ad, 'e'), 0)
  t.is(ad.get('a')?.name, 'A')
})

const unparseable: Array<[string, string]> = [
  ['a reserved word as a name', '[ error = "x"; ]'],
  ['a reserved word in another case', '[ TRUE = "x"; ]'],
  ['"is" as a name', '[ is = 1; ]'],
  ['"isnt" as a name', '[ IsNt = 1; ]'],
  ['"undefined" as a name', '[ undefined = 1; ]'],
  ['a scope name', '[ parent = 1; ]'],
  ['a scope name in another case', '[ My = 1; ]'],
  ['"target" as a name', '[ target = 1; ]'],
  ['a name repeated in another case', '[ VMID = "a"; vmid = "b"; ]'],
  ['punctuation in a name', '[ net.cfg = 1; ]'],
  ['a dash in a name', '[ net-cfg = 1; ]'],
  ['a missing ";"', '[ a = 1 b = 2 ]'],
  ['a NUL escape', '[ a = "x\\0"; ]'],
  ['an unterminated string', '[ a = "x; ]'],
  ['an unescaped quote', '[ a = "say "hi""; ]'],
  ['a raw newline in a string', '[ a = "x\ny"; ]'],
  ['a raw escape character in a string', '[ a = "\u001b[31m"; ]'],
  ['an unknown escape', '[ a = "\\q"; ]'],
  ['bytes that are not UTF-8', '[ a = "\\377"; ]'],
  ['adjacent strings', '[ a = "x" "y"; ]'],
  ['an octal-looking number', '[ a = 012; ]'],
  ['a number with a size factor', '[ a = 5K; ]'],
  ['an attribute reference', '[ a = b; ]'],
  ['an operator', '[ a == 1; ]'],
  ['a second classad', '[ a = 1; ] [ b = 2; ]'],
  ['no closing bracket', '[ a = 1;']
]
for (const [what, text] of unparseable) {
  test(`the test parser refuses ${what}`, (t) => {
    t.throws(() => parseClassad(text), { instanceOf: ClassadSyntaxError })
  })
}

// --- the format --------------------------------------------------------------------------------

test('a classad prints every built-in attribute under its fixed name, and parses', (t) => {
  const ad = roundTrip({ ...BASE, recovered: [{ action: 'mount', exitCode: 3, timedOut: false, handledBy: ['fix'] }] })
  t.deepEqual([...ad.values()].map(({ name }) => name), [...CLASSAD_BUILTINS])
  t.is(get(ad, 'RecoveredErrors'), 'mount:3')
  t.is(get(ad, 'VMID'), BASE.vmid)
})

test('the NIC on the domain network prints as MAC and IPAddress; without an address only MAC, without a NIC neither', (t) => {
  const full = parseClassad(formatClassad(BASE))
  t.is(get(full, 'MAC'), '52:54:00:0a:0b:0c')
  t.is(get(full, 'IPAddress'), '192.168.77.10/24')
  const names = [...full.values()].map(({ name }) => name)
  t.deepEqual(names.slice(names.indexOf('NetworkIndex'), names.indexOf('Cost') + 1), ['NetworkIndex', 'MAC', 'IPAddress', 'Cost'])
  const macOnly = parseClassad(formatClassad({ ...BASE, nic: { mac: '52:54:00:0a:0b:0c' } }))
  t.is(get(macOnly, 'MAC'), '52:54:00:0a:0b:0c')
  t.false(macOnly.has('ipaddress'))
  const { nic: _nic, ...withoutNic } = BASE
  const none = parseClassad(formatClassad(withoutNic))
  t.false(none.has('mac'))
  t.false(none.has('ipaddress'))
  t.is(none.size, full.size - 2)
})

test('action ids that differ only in punctuation or case get distinct attributes', (t) => {
  const ids = ['net.cfg', 'net-cfg', 'net_cfg', 'Net.cfg', 'NET.CFG', 'net.cfg0', 'net_0']
  const outputs = Object.fromEntries(ids.map((id, i) => [id, output(i, `from ${id}\n`, `err ${id}`)]))
  const ad = roundTrip({ ...BASE, outputs })
  t.is(ad.size, CLASSAD_BUILTINS.length - 1 + 3 * ids.length)
  t.is(get(ad, 'Action_net_056cfg_Stdout'), 'from net.cfg\n')
  t.is(get(ad, 'Action_net_055cfg_Stdout'), 'from net-cfg\n')
  t.is(get(ad, 'Action_net_cfg_Stdout'), 'from net_cfg\n')
  t.is(get(ad, 'Action__116et_056cfg_ExitCode'), 3)
  t.is(get(ad, 'Action_net_1370_Stderr'), 'err net_0')
})

test('a plain lower-case id or export keeps its name', (t) => {
  const text = formatClassad({ ...BASE, outputs: { network: output(0, 'ip=10.10.0.2\n') }, attributes: { ip_address: '10.10.0.2' } })
  t.regex(text, /^ {2}Action_network_Stdout = "ip=10\.10\.0\.2\\n";$/m)
  t.regex(text, /^ {2}Export_ip_address = "10\.10\.0\.2";$/m)
})

test('an export named like a built-in, in any case, cannot shadow it', (t) => {
  const attributes = { vmid: 'vm-forged', VMID: 'vm-forged-2', Memory: '999999', state: 'destroyed', Owner: 'someone', RecoveredErrors: 'x', Export_a: 'nested', Action_a_Stdout: 'posing as output' }
  const ad = roundTrip({ ...BASE, attributes, outputs: { a: output(0, 'real output') } })
  t.is(get(ad, 'VMID'), BASE.vmid)
  t.is(get(ad, 'Memory'), 64)
  t.is(get(ad, 'State'), 'running')
  t.is(get(ad, 'Export_vmid'), 'vm-forged')
  t.is(get(ad, 'Export__126_115_111_104'), 'vm-forged-2')
  t.is(get(ad, 'Action_a_Stdout'), 'real output')
  t.is(get(ad, 'Export__101ction_a__123tdout'), 'posing as output')
})

test('exports named after reserved words and scopes still parse', (t) => {
  const words = ['error', 'true', 'false', 'is', 'isnt', 'undefined', 'parent', 'my', 'target', 'TRUE', 'Error']
  const ad = roundTrip({ ...BASE, attributes: Object.fromEntries(words.map((w) => [w, `value of ${w}`])), outputs: Object.fromEntries(words.map((w) => [w, output(1, w)])) })
  t.is(get(ad, 'Export_error'), 'value of error')
  t.is(get(ad, 'Export__124_122_125_105'), 'value of TRUE')
  t.is(get(ad, 'Action_undefined_ExitCode'), 1)
})

test('guest output cannot end its string, add attributes or drive the terminal', (t) => {
  const stdout = 'x"; VMID = "vm-forged"; y = "\\\n] [ State = "destroyed" ]\u001b[2J\u009b31m\0\ud800 tab\tend é😀'
  const ad = roundTrip({ ...BASE, outputs: { evil: output(0, stdout, '"') }, attributes: { note: stdout } })
  t.is(get(ad, 'VMID'), BASE.vmid)
  t.is(get(ad, 'Action_evil_Stdout'), printable(stdout))
  t.is(get(ad, 'Action_evil_Stderr'), '"')
  t.false(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(formatClassad({ ...BASE, outputs: { evil: output(0, stdout) } })), 'no control character is printed raw')
})

// --- any classad ---------------------------------------------------------------------------------

/** characters that break naive printers, and any code point, lone surrogates included */
const textUnit = fc.oneof(
  fc.constantFrom('"', '\\', '\n', '\r', '\t', '\0', '\u001b', '\u009b', '\u007f', ';', ']', '[', '=', "'", '_', '.', '-', 'é', '😀', 'A', 'a', '0'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
)
const text = fc.string({ unit: textUnit, maxLength: 40 })
const builtinLike = fc.constantFrom(...CLASSAD_BUILTINS).chain((name) => fc.constantFrom(name, name.toLowerCase(), name.toUpperCase()))
const reserved = fc.constantFrom('error', 'true', 'false', 'is', 'isnt', 'undefined', 'parent', 'my', 'target', 'TRUE', 'Undefined')
/** what a valid spec allows (EXPORT_PATTERN and ID_PATTERN in src/planner/spec.ts), tricky names, and any string a peer might send */
const exportName = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), builtinLike, reserved, fc.constantFrom('Export_vmid', 'Action_a_Stdout', 'ip_address', 'IP_ADDRESS'), text)
const actionId = fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/), fc.constantFrom('net.cfg', 'net-cfg', 'net_cfg', 'NET.cfg', 'a', 'A', 'a_ExitCode', 'a_Stdout'), builtinLike, reserved, text)
const outputArb = fc.record({ exitCode: fc.integer({ min: -255, max: 255 }), stdout: text, stderr: text, durationMs: fc.nat() })
const classadArb = fc.record({
  attributes: fc.uniqueArray(fc.tuple(exportName, text), { selector: ([k]) => k, maxLength: 12 }).map((pairs) => Object.fromEntries(pairs)),
  outputs: fc.uniqueArray(fc.tuple(actionId, outputArb), { selector: ([k]) => k, maxLength: 12 }).map((pairs) => Object.fromEntries(pairs)),
  recovered: fc.array(fc.record({ action: fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}$/), exitCode: fc.integer({ min: 1, max: 255 }), timedOut: fc.boolean(), handledBy: fc.constant<string[]>([]) }), { maxLength: 2 })
}).map((parts): Classad => ({ ...BASE, ...parts }))

test('any classad prints as a ClassAd that parses, with unique names, built-ins intact, and every export and output found again', (t) => {
  t.notThrows(() => {
    fc.assert(fc.property(classadArb, (ad) => {
      const parsed = roundTrip(ad)
      const expected = CLASSAD_BUILTINS.length - (ad.recovered.length > 0 ? 0 : 1) + Object.keys(ad.attributes).length + 3 * Object.keys(ad.outputs).length
      if (parsed.size !== expected) throw new Error(`${parsed.size} attributes, expected ${expected}`)
    }), { numRuns: 500 })
  })
})

test('the name encoding is one-to-one, ignoring case, for any string', (t) => {
  t.notThrows(() => {
    fc.assert(fc.property(fc.oneof(text, actionId, exportName), (id) => {
      const name = classadName(id)
      if (!/^[a-z0-9_]*$/.test(name)) throw new Error(`"${name}" is not lower-case letters, digits and "_"`)
      // decoding the case-folded name gives the id back: two ids equal ignoring case would be one id
      if (decodeName(name.toLowerCase()) !== id) throw new Error(`"${id}" does not come back from "${name}"`)
    }), { numRuns: 3000 })
  })
})
