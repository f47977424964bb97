import test from 'ava'
import { createHash } from 'node:crypto'
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { exitCodeOf } from '../../src/cli/main.js'
import { UsageError, DomainExistsError, ShopUnreachableError } from '../../src/cli/errors.js'
import { InvalidSpecError } from '../../src/planner/index.js'
import { ConfigError } from '../../src/daemon/errors.js'
import { RemoteError, MalformedMessageError } from '../../src/net/errors.js'
import { ScenarioError } from '../../sim/errors.js'
import { POLICY_NAMES } from '../../sim/policy.js'
import { POLICY_NAMES_IN_HELP } from '../../src/cli/commands/sim-command.js'
import { bundleIsFresh } from '../../src/cli/bundled.js'
import { lineSteps, progress, steps } from '../../src/cli/progress.js'
import { imageFetchProgress } from '../../src/images/index.js'
import type { Output } from '../../src/cli/output.js'
import { tempDir } from '../helpers/temp.js'

test('bad input exits with 2 whichever layer threw it, though main loads none of them; anything else with 1', (t) => {
  t.is(exitCodeOf(new UsageError('x')), 2)
  t.is(exitCodeOf(new DomainExistsError('x')), 2)
  t.is(exitCodeOf(new InvalidSpecError('actions.0', 'is bad')), 2)
  t.is(exitCodeOf(new ConfigError('x')), 2)
  t.is(exitCodeOf(new ScenarioError('s.yaml', 'plants', 'is bad')), 2)
  t.is(exitCodeOf(new RemoteError(InvalidSpecError.name, 'bad spec')), 2)
  t.is(exitCodeOf(new RemoteError(MalformedMessageError.name, 'bad frame')), 2)
  t.is(exitCodeOf(new RemoteError('VmNotFoundError', 'not found')), 1)
  t.is(exitCodeOf(new ShopUnreachableError('x')), 1)
  t.is(exitCodeOf(new Error('x')), 1)
  t.is(exitCodeOf(undefined), 1)
  t.is(exitCodeOf('a string'), 1)
})

test('the policies that sim --help lists are the ones the simulator takes', (t) => {
  t.deepEqual([...POLICY_NAMES_IN_HELP], [...POLICY_NAMES])
})

async function input (root: string, file: string, text: string): Promise<[string, number, number, string]> {
  await mkdir(join(root, file, '..'), { recursive: true })
  await writeFile(join(root, file), text)
  const s = await stat(join(root, file))
  return [file, s.size, s.mtimeMs, createHash('sha1').update(text).digest('hex')]
}

test('a bundle is used only while every input it was made from is unchanged', async (t) => {
  const dir = await tempDir()
  t.teardown(async () => { await dir.remove() })
  const root = dir.path
  const inputs = [await input(root, 'dist/src/a.js', 'export const a = 1\n'), await input(root, 'node_modules/p/package.json', '{"version":"1.0.0"}')]
  await writeFile(join(root, 'dist/b.bundle.js'), 'bundle')
  t.false(bundleIsFresh('dist/b.bundle.js', root), 'no manifest: not fresh')
  await writeFile(join(root, 'dist/b.bundle.json'), JSON.stringify({ entry: 'dist/src/a.js', inputs }))
  t.true(bundleIsFresh('dist/b.bundle.js', root))
  // tsc writes the same text again: a new mtime, the same content
  await utimes(join(root, 'dist/src/a.js'), new Date(), new Date(Date.now() + 5000))
  t.true(bundleIsFresh('dist/b.bundle.js', root))
  // the same size, other content
  await writeFile(join(root, 'dist/src/a.js'), 'export const a = 2\n')
  t.false(bundleIsFresh('dist/b.bundle.js', root))
  await writeFile(join(root, 'dist/src/a.js'), 'export const a = 1\n')
  t.true(bundleIsFresh('dist/b.bundle.js', root))
  // a package upgraded
  await writeFile(join(root, 'node_modules/p/package.json'), '{"version":"1.0.10"}')
  t.false(bundleIsFresh('dist/b.bundle.js', root))
  t.is(await readFile(join(root, 'dist/b.bundle.js'), 'utf8'), 'bundle', 'the check only reads')
})

function capture (terminal: boolean): { out: Output, errors: string[], statuses: string[] } {
  const errors: string[] = []
  const statuses: string[] = []
  const out: Output = { print: () => {}, error: (l) => { errors.push(l) }, ...(terminal ? { status: (l: string) => { statuses.push(l) } } : {}) }
  return { out, errors, statuses }
}

test('progress off a terminal is plain lines: a step when it starts and when it ends, with its time', (t) => {
  let now = 1000
  const { out, errors } = capture(false)
  const bar = progress(out, () => now)
  bar.step('building the guest image')
  bar.update(0.5)
  now += 2500
  bar.step('booting the golden image')
  now += 1000
  bar.close('failed')
  t.deepEqual(errors, [
    'vmplant: building the guest image...',
    'vmplant: building the guest image: done (2.5 s)',
    'vmplant: booting the golden image...',
    'vmplant: booting the golden image: failed (1.0 s)'
  ])
})

test('progress on a terminal redraws one status line with a bar, and leaves a line per ended step', (t) => {
  let now = 0
  const { out, errors, statuses } = capture(true)
  const bar = progress(out, () => now)
  bar.step('fetching image abc')
  bar.update(0.5, '1.0 of 2.0 MB')
  now += 1500
  bar.update(1)
  bar.end()
  bar.close()
  t.regex(statuses[1] ?? '', /^\[#{12}\.{12}\] 50% 0\.0 s {2}fetching image abc {2}1\.0 of 2\.0 MB$/)
  t.regex(statuses[2] ?? '', /^\[#{24}\] 100% 1\.5 s {2}fetching image abc/)
  t.is(statuses.at(-1), '', 'the status line is cleared before the step\'s line')
  t.deepEqual(errors, ['vmplant: fetching image abc: done (1.5 s)'])
})

test('a plant\'s image fetch shows as one step with a bar that follows the bytes, ended when the image is in', (t) => {
  let now = 0
  const { out, errors, statuses } = capture(true)
  const all = steps(out, () => now)
  const plant = lineSteps(all)
  const toSteps = imageFetchProgress((event) => { plant('plant-1', event) })
  const image = { id: 'bafy0123456789abcdef', peer: '12D3KooWholder00' }
  toSteps({ type: 'image.progress', ...image, artifact: 'ram', received: 0, bytes: 4 * 1024 * 1024 })
  now += 500
  toSteps({ type: 'image.progress', ...image, artifact: 'ram', received: 1024 * 1024, bytes: 4 * 1024 * 1024 })
  now += 500
  toSteps({ type: 'image.fetched', ...image, record: {} as never })
  all.close()
  t.regex(statuses[0] ?? '', /^\[\.{24}\] 0% 0\.0 s {2}plant-1: fetching image bafy01234567 from holder00 \(ram, 4\.0 MB\)$/)
  t.regex(statuses[1] ?? '', /^\[#{6}\.{18}\] 25% 0\.5 s {2}plant-1: fetching/)
  t.deepEqual(errors, ['vmplant: plant-1: fetching image bafy01234567 from holder00 (ram, 4.0 MB): done (1.0 s)'])
})
