/**
 * The UML line's own cases: the COW format, the golden root file system, umids, a crash while the
 * plant was away, a boot that fails, the fingerprint. What every line must do is in the
 * conformance suite (uml-conformance.spec.ts).
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { ProductionError, VmNotFoundError, type GoldenImage } from '../../src/hypervisor/index.js'
import { createUmlLineInit, InvalidUmlLineInitError, UmlBootError, umlLine, type UmlProductionLine } from '../../src/hypervisor/uml/index.js'
import { writeCowFile } from '../../src/hypervisor/uml/cow.js'
import { killAll, runs } from '../helpers/hypervisors.js'
import { lineTest } from './qemu-helpers.js'

function hashFile (path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** Pids whose command line contains `needle`, by pgrep -f as an operator would look. */
function pgrep (needle: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', needle], { encoding: 'utf8' }).trim().split('\n').filter((s) => s !== '').map(Number)
  } catch (err: any) {
    if (err?.status === 1) return []
    throw err
  }
}

const utest = lineTest('uml')
// short paths: the management sockets live inside the work folder
const work = mkdtempSync(join(tmpdir(), 'vmplant-uml-'))
const goldenDir = mkdtempSync(join(tmpdir(), 'vmplant-umlg-'))
const lines: UmlProductionLine[] = []
let line: UmlProductionLine
let golden: GoldenImage

function newLine (extra: Parameters<typeof umlLine>[0] = {}): UmlProductionLine {
  const made = umlLine({ workDir: work, goldenDir, ...extra })
  lines.push(made)
  return made
}

test.after.always(async () => {
  for (const made of lines) await made.stop({ destroyAll: true }).catch(() => {})
  killAll(pgrep(work))
  rmSync(work, { recursive: true, force: true })
  rmSync(goldenDir, { recursive: true, force: true })
})

test('init validation names the offending field', (t) => {
  t.is(t.throws(() => createUmlLineInit({ workDir: 'relative' }), { instanceOf: InvalidUmlLineInitError })?.path, 'workDir')
  t.is(t.throws(() => createUmlLineInit({ workDir: '/' + 'x'.repeat(100) }), { instanceOf: InvalidUmlLineInitError })?.path, 'workDir')
  t.is(t.throws(() => createUmlLineInit({ goldenDir: '' }), { instanceOf: InvalidUmlLineInitError })?.path, 'goldenDir')
  t.is(t.throws(() => createUmlLineInit({ umlBinary: '' }), { instanceOf: InvalidUmlLineInitError })?.path, 'umlBinary')
  t.is(t.throws(() => createUmlLineInit({ overheadMB: -1 }), { instanceOf: InvalidUmlLineInitError })?.path, 'overheadMB')
  t.is(t.throws(() => createUmlLineInit({ bootTimeoutMs: 1.5 }), { instanceOf: InvalidUmlLineInitError })?.path, 'bootTimeoutMs')
  t.is(createUmlLineInit({ workDir: '/tmp/w' }).umlBinary, 'linux.uml')
})

// scripts/setup.sh installs uml-utilities, so CI must have uml_mkcow; elsewhere it may be missing
const mkcowTest = runs('uml_mkcow', []) || process.env.CI !== undefined ? test : test.skip
mkcowTest('COW files are the ones uml_mkcow makes, byte for byte', async (t) => {
  for (const size of [32 * 1024 * 1024, 33 * 1024 * 1024 + 512, 7]) {
    const base = join(work, `cow-base-${size}`)
    writeFileSync(base, '')
    truncateSync(base, size)
    await writeCowFile(join(work, `ours-${size}.cow`), base)
    execFileSync('uml_mkcow', [join(work, `theirs-${size}.cow`), base])
    t.true(readFileSync(join(work, `ours-${size}.cow`)).equals(readFileSync(join(work, `theirs-${size}.cow`))), `size ${size}`)
    for (const file of [base, join(work, `ours-${size}.cow`), join(work, `theirs-${size}.cow`)]) rmSync(file)
  }
})

utest('a golden image is prepared from Debian packages, with its actions applied, and found again by content', async (t) => {
  line = newLine()
  await line.start()
  golden = await line.prepareGolden({
    hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' },
    actions: [{ id: 'motd', run: 'echo made-in-golden > /etc/motd' }]
  })
  t.is(golden.line, 'uml')
  t.deepEqual(golden.applied, ['motd'])
  const disk = join(golden.dir, golden.artifacts.disk ?? '')
  t.true(statSync(disk).size >= 64 * 1024 * 1024)
  const again = await line.prepareGolden({ hardware: golden.hardware, actions: [{ id: 'motd', run: 'echo made-in-golden > /etc/motd' }] })
  t.is(again.id, golden.id)
  t.deepEqual(pgrep(work), [], 'the golden boot leaves no process')
})

utest('every host process of a booted clone carries its umid, and the golden stays unchanged under two clones', async (t) => {
  const disk = join(golden.dir, golden.artifacts.disk ?? '')
  const before = { hash: hashFile(disk), mtime: statSync(disk).mtimeMs }
  await line.clone(golden, 'vm-one')
  await line.resume('vm-one')
  await line.clone(golden, 'vm-two')
  await line.resume('vm-two')
  t.true(pgrep(line.umid('vm-one')).length > 0)
  const wrote = await line.runAction('vm-one', { id: 'write', run: 'echo only-here > /root/mark && sync && cat /root/mark' })
  t.is(wrote.stdout, 'only-here\n')
  t.is((await line.runAction('vm-two', { id: 'motd', run: 'cat /etc/motd' })).stdout, 'made-in-golden\n')
  const info = await line.inspect('vm-one')
  t.true((info.rssKB ?? 0) > 0)
  t.deepEqual(info.handle, { line: 'uml', token: info.handle.token, pid: info.pid ?? null })
  t.deepEqual({ hash: hashFile(disk), mtime: statSync(disk).mtimeMs }, before)
  await line.destroy('vm-two')
})

utest('a VM whose processes died while the line was away is not recovered, reads crashed, and destroy cleans it up', async (t) => {
  const umid = line.umid('vm-one')
  const { handle } = await line.inspect('vm-one')
  await line.stop()
  killAll(pgrep(umid))
  const restarted = newLine()
  await restarted.start()
  line = restarted
  await t.throwsAsync(line.recover('vm-one', handle), { instanceOf: VmNotFoundError })
  t.is((await line.inspect('vm-one')).state, 'crashed')
  await t.throwsAsync(line.runAction('vm-one', { id: 'x', run: 'true' }), { instanceOf: ProductionError })
  await line.destroy('vm-one')
  t.deepEqual(pgrep(umid), [])
  t.deepEqual(await line.list(), [])
})

utest('a clone or boot that fails half-way leaves no process and no file', async (t) => {
  const missing: GoldenImage = { ...golden, id: 'gone', dir: join(goldenDir, 'no-such-golden') }
  await t.throwsAsync(line.clone(missing, 'vm-bad'))
  t.deepEqual(await line.list(), [])
  const broken = newLine({ umlBinary: '/bin/false', bootTimeoutMs: 5_000 })
  await broken.clone(golden, 'vm-noboot')
  await t.throwsAsync(broken.resume('vm-noboot'), { instanceOf: UmlBootError })
  t.deepEqual(pgrep(broken.umid('vm-noboot')), [])
  t.is((await broken.inspect('vm-noboot')).state, 'stopped')
  await broken.destroy('vm-noboot')
  t.deepEqual(readdirSync(join(work, 'vms')), [])
})

utest('the fingerprint names linux.uml\'s version, and says what is missing', async (t) => {
  const print = await line.fingerprint()
  t.true(print.healthy, print.detail)
  t.regex(print.version, /^linux\.uml \d+\.\d+/)
  const missing = await umlLine({ workDir: work, goldenDir, umlBinary: 'no-such-uml', busyboxPath: '/no/busybox' }).fingerprint()
  t.false(missing.healthy)
  t.regex(missing.detail, /no-such-uml is not installed \(Debian package user-mode-linux;.*busybox-static/)
  await line.stop({ destroyAll: true })
})
