import test from 'ava'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { main } from '../../src/cli/main.js'
import { federationWithClient, SMALL_SPEC, type Fixture } from '../helpers/federation.js'
import { tempDir } from '../helpers/temp.js'
import type { Output } from '../../src/cli/output.js'
import { readSpecFile } from '../../src/cli/spec-file.js'
import { InvalidSpecError } from '../../src/planner/index.js'

let fixture: Fixture
let dir: Awaited<ReturnType<typeof tempDir>>
test.before(async () => {
  fixture = await federationWithClient({ plants: 1 })
  dir = await tempDir()
})
test.after.always(async () => {
  await fixture?.stop()
  await dir?.remove()
})

function capture (): Output & { out: string[], err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return { out, err, print: (l) => out.push(l), error: (l) => err.push(l) }
}

const occurrences = (text: string, part: string): number => text.split(part).length - 1

/** what is wrong, the spec, the field the message names ('' for the spec as a whole), and the problem it states */
const bad: Array<[string, unknown, string, string]> = [
  ['an unknown field', { ...SMALL_SPEC, colour: 'red' }, '', 'unknown field "colour"'],
  ['an unknown action field', { hardware: SMALL_SPEC.hardware, actions: [{ id: 'a', run: 'true', when: 'now' }] }, 'actions[0]', 'unknown field "when"'],
  ['a cycle', { hardware: SMALL_SPEC.hardware, actions: [{ id: 'a', run: 'true', after: ['b'] }, { id: 'b', run: 'true', after: ['a'] }] }, 'actions[0].after', 'actions form a cycle: a -> b -> a'],
  ['a dangling after', { hardware: SMALL_SPEC.hardware, actions: [{ id: 'a', run: 'true', after: ['ghost'] }] }, 'actions[0].after[0]', '"ghost" is not the id of any action'],
  ['a duplicate id', { hardware: SMALL_SPEC.hardware, actions: [{ id: 'a', run: 'true' }, { id: 'a', run: 'false' }] }, 'actions[1].id', 'duplicate action id "a" (first used by actions[0])'],
  ['too little memory', { hardware: { memoryMB: 1, os: 'linux' }, actions: [] }, 'hardware.memoryMB', 'must be at least 16'],
  ['too much memory', { hardware: { memoryMB: 10_000_000, os: 'linux' }, actions: [] }, 'hardware.memoryMB', 'must be at most 65536'],
  ['memory that is not a number', { hardware: { memoryMB: 'lots', os: 'linux' }, actions: [] }, 'hardware.memoryMB', 'expected number'],
  ['no hardware', { actions: [] }, 'hardware', 'expected object']
]

for (const [what, spec, path, problem] of bad) {
  test(`a spec with ${what} is refused by the client, naming the file and the field once, and by the shop itself`, async (t) => {
    const file = join(dir.path, `${what.replace(/\W+/g, '-')}.json`)
    await writeFile(file, JSON.stringify(spec))
    const output = capture()
    const code = await main(['create', '--shop', fixture.federation.shopAddr, '--spec', file, '--domain', 'grid', '--key', join(dir.path, 'client.key')], output)
    t.is(code, 2)
    const atField = path === '' ? problem : `${path}: ${problem}`
    // one line, the file and the field named once, and (issue 24) where in the file: a JSON spec is one line
    t.is(output.err.length, 1, output.err.join('\n'))
    t.true(output.err[0]?.startsWith(`vmplant: ${file}: ${atField} (line 1, column `), output.err[0])
    t.regex(output.err[0] ?? '', /\(line 1, column \d+\)$/)
    // bypassing the client's own check: the shop refuses with the same message, and lives on
    const error = await t.throwsAsync(fixture.client.create(spec, 'grid'))
    t.true(error.message.endsWith(atField), error.message)
    t.is(occurrences(error.message, problem), 1)
    if (path !== '') t.is(occurrences(error.message, `${path}: `), 1, 'the field is named once')
    t.is((error as { code?: string }).code, 'InvalidSpecError')
  })
}

test('a spec file\'s error names the file, then the field, then the problem, each once', async (t) => {
  const file = join(dir.path, 'small-memory.yaml')
  await writeFile(file, 'hardware:\n  memoryMB: 8\n  os: linux\nactions: []\n')
  const error = await t.throwsAsync(readSpecFile(file), { instanceOf: InvalidSpecError })
  // (issue 24) and where the field's value is in the file
  t.is(error.message, `${file}: hardware.memoryMB: must be at least 16 (line 2, column 13)`)
  t.is(error.path, 'hardware.memoryMB')
  t.is(error.problem, 'must be at least 16')
  t.is(error.file, file)
})

test('the federation still creates VMs after all the bad specs', async (t) => {
  const result = await fixture.client.create(SMALL_SPEC, 'grid')
  t.is(result.classad.state, 'running')
  await fixture.client.destroy(result.classad.vmid)
})

test('a spec file that is not YAML, or missing, gets a clear error', async (t) => {
  const file = join(dir.path, 'broken.yaml')
  await writeFile(file, 'hardware: [unclosed')
  const output = capture()
  t.is(await main(['create', '--shop', fixture.federation.shopAddr, '--spec', file, '--domain', 'grid'], output), 2)
  t.regex(output.err.join('\n'), /is not valid YAML or JSON/)
  const missing = capture()
  t.is(await main(['create', '--shop', fixture.federation.shopAddr, '--spec', join(dir.path, 'nope.yaml'), '--domain', 'grid'], missing), 2)
  t.regex(missing.err.join('\n'), /cannot read spec .*nope\.yaml/)
})

test('a bad domain or VMID is refused before anything is sent', async (t) => {
  const output = capture()
  t.is(await main(['create', '--shop', fixture.federation.shopAddr, '--spec', 'x', '--domain', 'Not A Domain'], output), 2)
  t.regex(output.err.join('\n'), /--domain "Not A Domain" must be lower-case/)
  const query = capture()
  t.is(await main(['query', '--shop', fixture.federation.shopAddr, 'vm-123'], query), 2)
  t.regex(query.err.join('\n'), /VMID "vm-123" is not a vmplant VMID/)
})
