import fc from 'fast-check'
import { classadSchema, orderSchema, type Classad } from '../../../src/interface/index.js'
import { decodeJson } from '../../../src/net/codec.js'
import { MalformedMessageError } from '../../../src/net/errors.js'
import { formatClassad } from '../../../src/cli/classad-format.js'
import { classadOf } from '../../../src/actors/plant/classad.js'
import { validateSpec } from '../../../src/planner/index.js'
import { FuzzFailure, type FuzzTarget } from '../harness.js'
import { fixtures } from '../fixtures.js'
import { frames, jsonBytes, type Json } from '../mutate.js'

/**
 * The classad on both sides: the plant's `classadOf` must make a classad its own schema accepts
 * from any production (whatever the guest printed, whatever the ids), and the command line's
 * `formatClassad` must print any classad that passed the schema as valid ClassAd syntax.
 */

/** one attribute per line: `  Name = number;` or `  Name = "string";` with only the escapes ClassAd reads */
const LINE = /^ {2}([A-Za-z_][A-Za-z0-9_]*) = (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|undefined|"(?:[^"\\\x00-\x1f\x7f-\x9f]|\\[\\"nrt]|\\[0-7]{3})*");$/u
const RESERVED = new Set(['true', 'false', 'undefined', 'error', 'is', 'isnt', 'parent', 'my', 'target'])

/** checks the printed classad's syntax; returns its attribute names */
export function checkClassadText (text: string): string[] {
  const lines = text.split('\n')
  if (lines[0] !== '[' || lines[lines.length - 1] !== ']') throw new FuzzFailure(`a classad must be one record in [ ]: ${text.slice(0, 200)}`)
  const seen = new Set<string>()
  const names: string[] = []
  for (const line of lines.slice(1, -1)) {
    const match = LINE.exec(line)
    if (match === null) throw new FuzzFailure(`not a ClassAd attribute line: ${JSON.stringify(line.slice(0, 300))}`)
    const name = match[1] as string
    const folded = name.toLowerCase()
    if (seen.has(folded)) throw new FuzzFailure(`attribute ${name} is printed twice, ignoring case`)
    if (RESERVED.has(folded)) throw new FuzzFailure(`attribute ${name} is a reserved word`)
    seen.add(folded)
    names.push(name)
  }
  return names
}

export async function classadTargets (): Promise<FuzzTarget[]> {
  const f = await fixtures()
  const order = (f.seeds.order as Json[])[0] as { [k: string]: Json }
  const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.constantFrom('', '\u0000', '\ud800x', '"\\', '\u009b31m', 'a\r\nb', 'x'.repeat(5000)))
  const id = fc.oneof(fc.constantFrom('net', 'Net', 'net.cfg', 'net_cfg', 'VMID', 'vmid', 'Memory', 'error', 'true', '__proto__', 'constructor', '_1', '1', 'é', 'E\u0301'), fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }))
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 })
  const output = fc.record({ exitCode: fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), stdout: text, stderr: text, durationMs: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1e9 }) })
  const production = fc.record({
    spec: fc.record({ memoryMB: fc.integer({ min: 16, max: 65_536 }), os: fc.constantFrom('linux', 'freebsd', 'a.b-c_d'), arch: fc.constantFrom('x86_64', 'aarch64', 'é\u0000') }),
    cost: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1e12 }),
    biddingMs: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1e9 }),
    cloningMs: finite,
    configuringMs: finite,
    cloned: fc.array(id, { maxLength: 4 }),
    run: fc.array(id, { maxLength: 4 }),
    outputs: fc.dictionary(id, output, { maxKeys: 5 }),
    attributes: fc.dictionary(id, text, { maxKeys: 5 }),
    recovered: fc.array(fc.record({ action: id, exitCode: fc.integer(), timedOut: fc.boolean(), handledBy: fc.array(id, { maxLength: 2 }) }), { maxLength: 2 }),
    network: fc.record({ name: text, index: fc.integer(), kind: fc.constantFrom('bridge' as const, 'none' as const), detail: text }),
    now: fc.integer({ min: 0, max: 8.64e15 })
  }).map((p) => jsonBytes(p as unknown as Json))

  return [
    {
      name: 'classad',
      // what the command line receives: a classad in a response frame, then printed
      inputs: frames(f.seeds.classad as Json[], 1024 * 1024),
      errors: [{ type: MalformedMessageError, clear: /(is malformed( at .+)?: \S.*|over the limit of \d+|is not valid UTF-8 JSON|nests deeper than \d+ levels)/s }],
      run: (bytes) => {
        const ad = decodeJson(bytes, classadSchema, 1024 * 1024, 'classad')
        const names = checkClassadText(formatClassad(ad))
        if (names.length < 20) throw new FuzzFailure(`a classad printed only ${names.length} attributes`)
      }
    },
    {
      name: 'classad-of',
      // what the plant makes: a production of any guest output, ids and timings
      inputs: production,
      errors: [],
      run: (bytes) => {
        const p = JSON.parse(new TextDecoder().decode(bytes))
        const spec = validateSpec({ hardware: { memoryMB: p.spec.memoryMB, os: p.spec.os === 'a.b-c_d' ? 'linux' : p.spec.os, arch: p.spec.arch } })
        const parsedOrder = orderSchema.parse({ ...order, cost: p.cost, biddingMs: p.biddingMs })
        const ad = classadOf(
          { vmid: f.vmid, order: parsedOrder, spec } as any,
          { image: { id: f.imageId }, cloningMs: p.cloningMs, configuringMs: p.configuringMs, cloned: p.cloned, run: p.run, outputs: p.outputs, attributes: p.attributes, recovered: p.recovered } as any,
          { plant: f.plant, line: 'qemu', now: p.now, network: p.network }
        )
        const parsed = classadSchema.safeParse(ad)
        if (!parsed.success) throw new FuzzFailure(`the plant made a classad its schema refuses at ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`)
        // and it survives the wire: JSON and back, then printed
        const wired: Classad = classadSchema.parse(JSON.parse(JSON.stringify(ad)))
        checkClassadText(formatClassad(wired))
      }
    }
  ]
}
