import test from 'ava'
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cachedAccel, probeOrRecall, type AccelProbeInit } from '../../src/hypervisor/qemu/accel.js'
import type { GuestImage } from '../../src/hypervisor/guest/index.js'
import { tempDir } from '../helpers/temp.js'

/**
 * A stand-in for qemu-system that notes each run and exits at once: the probe boot fails (TCG) and
 * the tests see whether a probe ran. No QEMU or /dev/kvm is needed.
 */
async function fixture (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ init: AccelProbeInit, image: GuestImage, runs: string, cacheFile: string }> {
  const dir = await tempDir('vmplant-accel-')
  t.teardown(dir.remove)
  const runs = join(dir.path, 'runs')
  const binary = join(dir.path, 'qemu-system-x86_64')
  await writeFile(binary, `#!/bin/sh\necho run >> '${runs}'\nexit 1\n`)
  await chmod(binary, 0o755)
  const cacheDir = join(dir.path, 'cache')
  const image: GuestImage = { id: 'image-1', dir: dir.path, kernel: join(dir.path, 'vmlinuz'), initrd: join(dir.path, 'initrd.img'), kernelVersion: '6.1' }
  return { init: { accel: 'auto', qemuBinary: binary, cacheDir, probeTimeoutMs: 500, tbSizeMB: 64 }, image, runs, cacheFile: join(cacheDir, 'accel.json') }
}

const probeRuns = async (file: string): Promise<number> => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l === 'run').length

test('a damaged accelerator cache is probed again and written whole, not a crash', async (t) => {
  const { init, image, runs, cacheFile } = await fixture(t)
  await mkdir(init.cacheDir, { recursive: true })
  const other = { abcdef0123456789: 'kvm' }
  // half of what another line was writing when this one started
  await writeFile(cacheFile, '{\n  "abcdef0123456789": "kv')
  t.is(await cachedAccel(init, image), undefined)
  await rm(runs, { force: true })
  t.is(await probeOrRecall(init, image), 'tcg')
  t.is(await probeRuns(runs), 1)
  const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as Record<string, string>
  t.deepEqual(Object.values(cache), ['tcg'])
  // a whole cache keeps the other lines' verdicts when one is added
  await writeFile(cacheFile, JSON.stringify(other))
  await rm(runs, { force: true })
  t.is(await probeOrRecall(init, image), 'tcg')
  t.like(JSON.parse(await readFile(cacheFile, 'utf8')), other)
  t.deepEqual((await readdir(init.cacheDir)).sort(), ['accel.json'])
})

test('a cached verdict is used without a probe boot', async (t) => {
  const { init, image, runs, cacheFile } = await fixture(t)
  t.is(await probeOrRecall(init, image), 'tcg')
  t.is(await probeRuns(runs), 1)
  const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as Record<string, string>
  const key = Object.keys(cache)[0] as string
  await writeFile(cacheFile, JSON.stringify({ [key]: 'kvm' }))
  t.is(await probeOrRecall(init, image), 'kvm')
  t.is(await cachedAccel(init, image), 'kvm')
  t.is(await probeRuns(runs), 1)
  t.true((await stat(cacheFile)).isFile())
})
