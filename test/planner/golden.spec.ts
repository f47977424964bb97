import test from 'ava'
import { CID } from 'multiformats/cid'
import { createDescriptor, goldenCid, goldenId, validateDescriptor, verifyDescriptor, InvalidDescriptorError, GOLDEN_LIMITS, type GoldenDescriptor } from '../../src/planner/index.js'
import { HW, makeSpec } from './helpers.js'

const spec = makeSpec([['os', 'install os'], ['vnc', 'install vnc', ['os']]])
const descriptor = (): GoldenDescriptor => createDescriptor({
  line: 'qemu',
  hardware: HW,
  applied: spec.actions,
  artifacts: [{ name: 'disk.qcow2', sha256: 'a'.repeat(64), bytes: 1 << 30 }, { name: 'memory.bin', sha256: 'b'.repeat(64), bytes: 1 << 28 }]
})
const raw = (): Record<string, unknown> => JSON.parse(JSON.stringify(descriptor())) as Record<string, unknown>

test('the id is the CID of the canonical descriptor, whatever the key order', (t) => {
  const d = descriptor()
  const shuffled = JSON.parse(JSON.stringify({ artifacts: d.artifacts, applied: d.applied, hardware: { diskMB: HW.diskMB, os: HW.os, memoryMB: HW.memoryMB, arch: HW.arch }, line: d.line, format: d.format })) as GoldenDescriptor
  t.is(goldenId(shuffled), goldenId(d))
  const cid = CID.parse(goldenId(d))
  t.is(cid.version, 1)
  t.is(cid.code, 0x0200)
  t.true(cid.equals(goldenCid(d)))
  t.is(d.applied.length, 2)
})

test('any change to the descriptor changes the id', (t) => {
  const d = descriptor()
  const ids = new Set([
    d,
    { ...d, line: 'uml' },
    { ...d, applied: [...d.applied].reverse() },
    { ...d, hardware: { ...d.hardware, diskMB: 1 } },
    { ...d, artifacts: d.artifacts.slice(1) }
  ].map(goldenId))
  t.is(ids.size, 5)
})

test('a descriptor announced under another id is refused', (t) => {
  const d = descriptor()
  t.deepEqual(verifyDescriptor(raw(), goldenId(d)), d)
  const tampered = { ...raw(), applied: [] }
  const err = t.throws(() => verifyDescriptor(tampered, goldenId(d)), { instanceOf: InvalidDescriptorError })
  t.regex(err?.message ?? '', /content hash is \w+, not the announced/)
})

test('malformed descriptors from peers are refused naming the field', (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [null, /expected object/],
    ['{}', /expected object/],
    [{ ...raw(), extra: true }, /unknown field "extra"/],
    [{ ...raw(), format: 'vmplant.golden/2' }, /^golden image descriptor format:/],
    [{ ...raw(), applied: ['os'] }, /^golden image descriptor applied\[0\]: must be an action identity/],
    [{ ...raw(), applied: Array(GOLDEN_LIMITS.maxApplied + 1).fill('c'.repeat(64)) }, /^golden image descriptor applied: at most/],
    [{ ...raw(), hardware: { ...HW, diskMB: undefined } }, /^golden image descriptor hardware\.diskMB:/],
    [{ ...raw(), hardware: { ...HW, memoryMB: 1.5 } }, /^golden image descriptor hardware\.memoryMB:/],
    [{ ...raw(), artifacts: [{ name: '../etc/passwd', sha256: 'a'.repeat(64), bytes: 1 }] }, /artifacts\[0\]\.name: must be a plain file name/],
    [{ ...raw(), artifacts: [{ name: 'sub/disk', sha256: 'a'.repeat(64), bytes: 1 }] }, /artifacts\[0\]\.name: must be a plain file name/],
    [{ ...raw(), artifacts: [{ name: 'disk', sha256: 'A'.repeat(64), bytes: 1 }] }, /artifacts\[0\]\.sha256: must be 64 lower-case hex digits/],
    [{ ...raw(), artifacts: [{ name: 'disk', sha256: 'a'.repeat(64), bytes: -1 }] }, /artifacts\[0\]\.bytes: must be at least 0/],
    [{ ...raw(), artifacts: [{ name: 'disk', sha256: 'a'.repeat(64), bytes: 1 }, { name: 'disk', sha256: 'b'.repeat(64), bytes: 2 }] }, /artifacts\[1\]\.name: "disk" is already used by artifacts\[0\]/],
    [{ ...raw(), line: 'Q E M U' }, /^golden image descriptor line:/]
  ]
  for (const [input, message] of cases) {
    const err = t.throws(() => validateDescriptor(input), { instanceOf: InvalidDescriptorError }, JSON.stringify(input)?.slice(0, 80))
    t.regex(err?.message ?? '', message)
  }
})
