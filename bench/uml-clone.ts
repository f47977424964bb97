/**
 * The UML line's costs, step by step (issue 5, item 4): golden preparation (base build and the
 * golden boot with one action), then for each of `count` clones of a `memory` MB golden: clone()
 * (a COW file), resume() (boot until the agent answers), a first and a second action, the
 * memory the running VM costs (PSS) and destroy(). Beside it, a full copy of the golden disk
 * (`cp --sparse=never`), what the COW file saves.
 *
 * Run: `npx tsc -p . && node dist/bench/uml-clone.js [--count 10] [--memory 64]`
 * Needs linux.uml (user-mode-linux), mke2fs (e2fsprogs) and busybox-static.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { umlLine } from '../src/hypervisor/uml/index.js'
import { formatRow, summarize } from './stats.js'

function flag (name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] as string : fallback
}

const COUNT = Number(flag('count', '10'))
const MEMORY_MB = Number(flag('memory', '64'))

async function timed<T> (fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const value = await fn()
  return [value, performance.now() - t0]
}

const work = mkdtempSync(join(tmpdir(), 'vmplant-umlb-'))
const goldenDir = mkdtempSync(join(tmpdir(), 'vmplant-umlbg-'))
const line = umlLine({ workDir: work, goldenDir })
try {
  await line.start()
  const [golden, goldenMs] = await timed(async () => await line.prepareGolden({
    hardware: { memoryMB: MEMORY_MB, os: 'linux', arch: 'x86_64' },
    actions: [{ id: 'motd', run: 'echo vmplant > /etc/motd' }]
  }))
  const samples: Record<string, number[]> = { clone: [], resume: [], 'first action': [], 'second action': [], destroy: [], 'full disk copy': [] }
  const pss: number[] = []
  for (let i = 0; i < COUNT; i++) {
    const vmid = `bench-${i}`
    samples.clone?.push((await timed(async () => await line.clone(golden, vmid)))[1])
    samples.resume?.push((await timed(async () => await line.resume(vmid)))[1])
    samples['first action']?.push((await timed(async () => await line.runAction(vmid, { id: 'a', run: 'cat /etc/motd' })))[1])
    samples['second action']?.push((await timed(async () => await line.runAction(vmid, { id: 'b', run: 'adduser -D alice && id alice' })))[1])
    pss.push(((await line.inspect(vmid)).rssKB ?? NaN) / 1024)
    samples.destroy?.push((await timed(async () => { await line.destroy(vmid) }))[1])
    const copy = join(work, 'copy.img')
    samples['full disk copy']?.push((await timed(async () => { execFileSync('cp', ['--sparse=never', join(golden.dir, golden.artifacts.disk ?? ''), copy]) }))[1])
    rmSync(copy)
  }
  console.log(`UML line, ${COUNT} clones of a ${MEMORY_MB} MB golden (${golden.hardware.diskMB ?? line.init.diskMB} MB disk), ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`)
  console.log(`golden prepared (base build + boot + 1 action + halt) in ${goldenMs.toFixed(0)} ms`)
  console.log('step | p50 ms | p99 ms | mean ms')
  console.log('---|---|---|---')
  for (const [step, values] of Object.entries(samples)) console.log(formatRow([step], summarize(values)))
  const memory = summarize(pss)
  console.log(`PSS of a running VM after two actions: p50 ${memory.p50.toFixed(1)} MB, max ${memory.max.toFixed(1)} MB (memoryCostMB says ${line.memoryCostMB(MEMORY_MB)})`)
} finally {
  await line.stop({ destroyAll: true })
  rmSync(work, { recursive: true, force: true })
  rmSync(goldenDir, { recursive: true, force: true })
}
