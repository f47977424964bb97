import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CorruptFileError, readJsonFile, temporaryNameFor, writeFileDurably } from '../../src/fs/index.js'
import { tempDir } from '../helpers/temp.js'

async function folder (t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await tempDir('vmplant-fs-')
  t.teardown(dir.remove)
  return dir.path
}

test('a durable write makes the file with its mode and leaves nothing else in the folder', async (t) => {
  const dir = await folder(t)
  const file = join(dir, 'key')
  await writeFileDurably(file, new Uint8Array([1, 2, 3]), { mode: 0o600 })
  t.deepEqual([...await readFile(file)], [1, 2, 3])
  t.is((await stat(file)).mode & 0o777, 0o600)
  t.deepEqual(await readdir(dir), ['key'])
})

test('a durable write replaces the old content whole', async (t) => {
  const dir = await folder(t)
  const file = join(dir, 'vm.json')
  await writeFile(file, 'old')
  await writeFileDurably(file, '{"new":true}\n')
  t.is(await readFile(file, 'utf8'), '{"new":true}\n')
  t.deepEqual(await readdir(dir), ['vm.json'])
})

test('an exclusive write never replaces a file and leaves no temporary file', async (t) => {
  const dir = await folder(t)
  const file = join(dir, 'swarm.key')
  await writeFileDurably(file, 'first', { exclusive: true })
  const err = await t.throwsAsync(writeFileDurably(file, 'second', { exclusive: true }))
  t.is((err as NodeJS.ErrnoException).code, 'EEXIST')
  t.is(await readFile(file, 'utf8'), 'first')
  t.deepEqual(await readdir(dir), ['swarm.key'])
})

test('a write whose data fails half-way keeps the old content and leaves no temporary file', async (t) => {
  const dir = await folder(t)
  const file = join(dir, 'vm.json')
  await writeFile(file, 'old')
  async function * failing (): AsyncGenerator<Uint8Array> {
    yield new Uint8Array(1024 * 1024).fill(0x61)
    yield new Uint8Array(1024 * 1024).fill(0x62)
    throw new Error('the source broke')
  }
  await t.throwsAsync(writeFileDurably(file, failing()), { message: 'the source broke' })
  t.is(await readFile(file, 'utf8'), 'old')
  t.deepEqual(await readdir(dir), ['vm.json'])
})

test('a write aborted while its data comes keeps the old content and leaves no temporary file', async (t) => {
  const dir = await folder(t)
  const file = join(dir, 'vm.json')
  await writeFile(file, 'old')
  const controller = new AbortController()
  async function * slow (): AsyncGenerator<Uint8Array> {
    yield new Uint8Array(1024).fill(0x61)
    controller.abort()
    yield new Uint8Array(1024).fill(0x62)
  }
  await t.throwsAsync(writeFileDurably(file, slow(), { signal: controller.signal }), { name: 'AbortError' })
  t.is(await readFile(file, 'utf8'), 'old')
  t.deepEqual(await readdir(dir), ['vm.json'])
})

test('a write whose rename fails (a folder in the way) leaves the folder and no temporary file', async (t) => {
  const dir = await folder(t)
  const file = join(dir, 'accel.json')
  await mkdir(join(file, 'inside'), { recursive: true })
  await t.throwsAsync(writeFileDurably(file, '{}'))
  t.deepEqual(await readdir(dir), ['accel.json'])
  t.deepEqual(await readdir(file), ['inside'])
})

test('a temporary file is named after its target and its writer, so a folder\'s owner can find a dead writer\'s', (t) => {
  t.regex(temporaryNameFor('/d/vm.json'), new RegExp(`^/d/vm\\.json\\.${process.pid}-[0-9a-f]{8}\\.tmp$`))
  t.not(temporaryNameFor('/d/vm.json'), temporaryNameFor('/d/vm.json'))
})

test('a guarded read: absent is undefined, whole JSON its value, a half-written file an error naming it or absent when asked', async (t) => {
  const dir = await folder(t)
  const file = join(dir, 'cache.json')
  t.is(await readJsonFile(file), undefined)
  await writeFile(file, '{"a":1}')
  t.deepEqual(await readJsonFile(file), { a: 1 })
  for (const half of ['{"a":', '']) {
    await writeFile(file, half)
    const err = await t.throwsAsync(readJsonFile(file), { instanceOf: CorruptFileError })
    t.is(err?.file, file)
    t.true(err?.message.includes(file))
    t.is(await readJsonFile(file, { corrupt: 'absent' }), undefined)
  }
})

/** Reads `file` while a child process rewrites it `count` times; returns how many reads were whole and how many not. */
async function readWhileWritten (file: string, count: number, how: 'durable' | 'plain'): Promise<{ whole: number, partial: number, exitCode: number | null }> {
  await writeFileDurably(file, JSON.stringify({ seq: -1, pad: '', length: 0 }))
  const writer = spawn(process.execPath, [new URL('file-writer.js', import.meta.url).pathname, file, String(count), how], { stdio: 'inherit' })
  const exited = new Promise<number | null>((resolve) => writer.once('exit', resolve))
  let running = true
  void exited.then(() => { running = false })
  let whole = 0
  let partial = 0
  while (running) {
    const text = await readFile(file, 'utf8')
    try {
      const value = JSON.parse(text) as { pad: string, length: number }
      if (value.pad.length === value.length) whole++
      else partial++
    } catch {
      partial++
    }
  }
  return { whole, partial, exitCode: await exited }
}

test('a reader in another process never sees a durably written file half-written', async (t) => {
  const dir = await folder(t)
  const outcome = await readWhileWritten(join(dir, 'big.json'), 40, 'durable')
  t.is(outcome.exitCode, 0)
  t.is(outcome.partial, 0)
  t.true(outcome.whole > 0)
  t.deepEqual((await readdir(dir)).sort(), ['big.json'])
})

test('the same reader does see a file replaced in place half-written (what the durable write prevents)', async (t) => {
  const dir = await folder(t)
  const outcome = await readWhileWritten(join(dir, 'big.json'), 40, 'plain')
  t.is(outcome.exitCode, 0)
  t.true(outcome.partial > 0, `${outcome.whole} whole reads`)
})
