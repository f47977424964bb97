import test from 'ava'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { GoldenImportError, qemuGoldenImporter, QEMU_ARTIFACTS } from '../../src/hypervisor/qemu/index.js'
import { removeAbandonedImports } from '../../src/hypervisor/qemu/golden-import.js'
import { MACHINE_MODEL } from '../../src/hypervisor/qemu/golden.js'
import { createDescriptor, goldenId, type GoldenDescriptor } from '../../src/planner/index.js'

const HARDWARE = { arch: 'x86_64', os: 'linux', memoryMB: 128, diskMB: 64 }

/** The files of a QEMU golden (small stand-ins for disk, RAM and kernel) and their descriptor. */
function fakeGolden (over: { meta?: Record<string, unknown>, line?: string, memoryMB?: number, drop?: string, extra?: string } = {}): { files: Map<string, Buffer>, descriptor: GoldenDescriptor, id: string } {
  const meta = {
    version: MACHINE_MODEL, id: 'a'.repeat(32), hardware: { arch: 'x86_64', os: 'linux', memoryMB: 128 }, applied: [], memoryMB: 128,
    accel: 'tcg', tbSizeMB: 64, mac: '52:54:00:12:34:56', append: 'console=ttyS0', imageId: 'img', createdAt: 1, ...over.meta
  }
  const files = new Map<string, Buffer>()
  for (const name of Object.keys(QEMU_ARTIFACTS)) files.set(name, name === 'meta' ? Buffer.from(JSON.stringify(meta)) : randomBytes(name === 'memory' ? 256 * 1024 : 4096))
  if (over.drop !== undefined) files.delete(over.drop)
  if (over.extra !== undefined) files.set(over.extra, randomBytes(16))
  const descriptor = createDescriptor({
    line: over.line ?? 'qemu',
    hardware: { ...HARDWARE, memoryMB: over.memoryMB ?? 128 },
    applied: [],
    artifacts: [...files].map(([name, bytes]) => ({ name, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength }))
  })
  return { files, descriptor, id: goldenId(descriptor) }
}

function goldenDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync('/dev/shm/vmplant-import-')
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

/** What the image protocol does with an importer: stage, write each file in the given order, tell it, commit. */
async function importFake (goldens: string, golden: ReturnType<typeof fakeGolden>, corrupt?: string) {
  const importer = qemuGoldenImporter({ goldenDir: goldens, nic: true, accel: 'tcg' })
  const staged = await importer.stage(golden.id, golden.descriptor)
  for (const { name, file } of staged.files) {
    const bytes = Buffer.from(golden.files.get(name) as Buffer)
    if (name === corrupt) bytes[0] = (bytes[0] as number) ^ 0xff
    await writeFile(join(staged.dir, file), bytes)
    await importer.received(golden.id, golden.descriptor, name, join(staged.dir, file))
  }
  return { importer, staged, golden: await importer.commit(golden.id, golden.descriptor) }
}

test('an imported QEMU golden lands in the line\'s golden folder under its id, with the line\'s file names and nothing else', async (t) => {
  const goldens = goldenDir(t)
  const golden = fakeGolden()
  const importer = qemuGoldenImporter({ goldenDir: goldens, nic: true, accel: 'tcg' })
  const staged = await importer.stage(golden.id, golden.descriptor)
  t.is(staged.files[0]?.name, 'meta', 'golden.json travels first, so that a wrong machine model is refused before the RAM moves')
  t.is(staged.files.at(-1)?.name, 'memory', 'then the smallest first')
  const { golden: placed } = await importFake(goldens, golden)
  t.is(placed.dir, join(goldens, golden.id))
  t.is(placed.line, 'qemu')
  t.is(placed.artifacts.memory, 'ram')
  t.deepEqual((await readdir(placed.dir)).sort(), Object.values(QEMU_ARTIFACTS).map((a) => a.file).sort())
  t.deepEqual((await readdir(goldens)), [golden.id], 'the staging folder is gone')
})

test('an import refuses, before a byte moves, a golden of another line, of hardware the line cannot run, or without the files a clone needs', async (t) => {
  const importer = qemuGoldenImporter({ goldenDir: goldenDir(t), nic: true, accel: 'tcg' })
  for (const [golden, pattern] of [
    [fakeGolden({ line: 'sim' }), /made by the sim line/],
    [fakeGolden({ memoryMB: 64 }), /hardware does not fit: the guest needs at least 128 MB, not 64/],
    [fakeGolden({ drop: 'state' }), /lacks the artifacts state/],
    [fakeGolden({ extra: 'rootkit' }), /artifacts a QEMU golden has not: rootkit/]
  ] as const) {
    const error = await t.throwsAsync(importer.stage(golden.id, golden.descriptor), { instanceOf: GoldenImportError })
    t.regex(error?.message ?? '', pattern)
  }
})

test('an import refuses a golden of another machine model or one checkpointed under KVM on a TCG line, and discard leaves nothing', async (t) => {
  const goldens = goldenDir(t)
  for (const [meta, pattern] of [
    [{ version: MACHINE_MODEL - 1 }, new RegExp(`machine model ${MACHINE_MODEL - 1}, this line clones model ${MACHINE_MODEL}`)],
    [{ accel: 'kvm' }, /checkpointed under KVM/],
    [{ memoryMB: 256 }, /says x86_64\/linux with 256 MB, its descriptor x86_64\/linux with 128 MB/],
    [{ mac: 'de:ad:be:ef:00:01' }, /golden.json is not a QEMU golden's/]
  ] as const) {
    const golden = fakeGolden({ meta })
    const error = await t.throwsAsync(importFake(goldens, golden), { instanceOf: GoldenImportError })
    t.regex(error?.message ?? '', pattern)
    await qemuGoldenImporter({ goldenDir: goldens, nic: true, accel: 'tcg' }).discard(golden.id)
  }
  t.deepEqual(await readdir(goldens), [], 'no staging folder and no golden is left')
})

test('a staged file that is not its descriptor\'s is refused at commit, and the golden is not placed', async (t) => {
  const goldens = goldenDir(t)
  const golden = fakeGolden()
  const error = await t.throwsAsync(importFake(goldens, golden, 'memory'), { instanceOf: GoldenImportError })
  t.regex(error?.message ?? '', /its memory \(ram\) hashes to [0-9a-f]{64}/)
  t.false(existsSync(join(goldens, golden.id)))
})

test('a line that starts removes the staging folder of an import whose plant is gone, and keeps one of a live plant', async (t) => {
  const goldens = goldenDir(t)
  const golden = fakeGolden()
  const staged = await qemuGoldenImporter({ goldenDir: goldens, nic: true, accel: 'tcg' }).stage(golden.id, golden.descriptor)
  await writeFile(join(staged.dir, 'ram.part'), randomBytes(1024))
  await removeAbandonedImports(goldens)
  t.true(existsSync(join(staged.dir, 'ram.part')), 'this process still owns it: a broken transfer resumes from it')
  // the owner a killed plant left: a process that has exited
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout
  await writeFile(join(staged.dir, 'owner.pid'), `${dead}\n`)
  await removeAbandonedImports(goldens)
  t.deepEqual(await readdir(goldens), [])
})
