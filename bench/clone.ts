/**
 * Latency from the QEMU line's clone() to the guest answering its agent (issues 5 and 11), for
 * golden images of several memory sizes, with and without the warm pool, beside baselines
 * measured in the same run: the raw-QEMU row (bench/raw-qemu.ts: the line's command line spawned
 * by hand, migrated in, answering the same agent over the same channel; its samples alternate
 * with the line's so that both see the same load), a full copy of disk and memory
 * (`cp --sparse=never`) then the same resume, and a cold boot. Prints the line's overhead as the
 * ratio of p50s, where each step's milliseconds go, the agent's guest-to-host throughput, and,
 * with `--tb-sizes`, the clone at several TCG translation cache sizes.
 *
 * Run: `npx tsc -p . && node dist/bench/clone.js [--count 50] [--baseline-count 10] [--sizes 128,512,2048] [--pool-size 2] [--pool-spawns 2] [--pool-max 2] [--pool-niceness 0]
 *   [--throughput-mb 64] [--tb-sizes 16,32,64,128]`
 * Needs qemu-system-x86_64, qemu-img, gcc and libc6-dev, and the Debian archive for the guest image's first build.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { cpus, hostname, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { GoldenImage } from '../src/hypervisor/index.js'
import { qemuLine, type QemuProductionLine } from '../src/hypervisor/qemu/index.js'
import { kernelAppend } from '../src/hypervisor/qemu/args.js'
import { coldBoot } from '../src/hypervisor/qemu/boot.js'
import { GOLDEN_FILES, readGoldenMeta, type GoldenMeta } from '../src/hypervisor/qemu/golden.js'
import { killAndWait } from '../src/hypervisor/qemu/process.js'
import { rawClone, type RawPhases } from './raw-qemu.js'
import { percentile } from './stats.js'

function flag (name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] as string : fallback
}

const COUNT = Number(flag('count', '50'))
const BASELINE_COUNT = Number(flag('baseline-count', '10'))
const SIZES = flag('sizes', '128,512,2048').split(',').map(Number)
const POOL_SIZE = Number(flag('pool-size', '2'))
const POOL_SPAWNS = Number(flag('pool-spawns', '2'))
const POOL_MAX = Number(flag('pool-max', String(POOL_SIZE)))
const POOL_NICENESS = Number(flag('pool-niceness', '0'))
const THROUGHPUT_MB = Number(flag('throughput-mb', '64'))
const TB_SIZES = flag('tb-sizes', '').split(',').filter((s) => s !== '').map(Number)

interface Row { size: number, method: string, samples: number[] }
const rows: Row[] = []
const ratios: string[] = []
const profiles: string[] = []
const extra: string[] = []
let accel = 'unknown'

interface LinePhases { clone: number, resume: number, answer: number }

async function lineClone (line: QemuProductionLine, golden: GoldenImage, vmid: string): Promise<LinePhases> {
  const t0 = performance.now()
  await line.clone(golden, vmid)
  const cloned = performance.now() - t0
  await line.resume(vmid)
  const resumed = performance.now() - t0
  await line.ping(vmid)
  const answered = performance.now() - t0
  await line.destroy(vmid)
  return { clone: cloned, resume: resumed, answer: answered }
}

async function timeClones (line: QemuProductionLine, golden: GoldenImage, count: number, before?: () => Promise<void>): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    await before?.()
    samples.push((await lineClone(line, golden, `bench-${i}`)).answer)
  }
  return samples
}

const p50 = (values: number[]): number => percentile([...values].sort((a, b) => a - b), 50)

/** The line's clones and raw clones of the same golden, alternated; adds both rows, the ratio and the profile. */
async function timeAgainstRaw (line: QemuProductionLine, golden: GoldenImage, work: string, count: number, label: string): Promise<void> {
  const meta = await readGoldenMeta(golden.dir)
  const ours: LinePhases[] = []
  const raw: RawPhases[] = []
  for (let i = 0; i < count; i++) {
    ours.push(await lineClone(line, golden, `pair-${i}`))
    raw.push(await rawClone(line.init.qemuBinary, line.init.qemuImg, golden, meta, join(work, `raw-${i}`)))
  }
  const size = meta.memoryMB
  rows.push({ size, method: label, samples: ours.map((p) => p.answer) })
  rows.push({ size, method: `raw QEMU, same command line (${label})`, samples: raw.map((p) => p.answer) })
  ratios.push(`| ${size} MB | ${label} | ${p50(ours.map((p) => p.answer)).toFixed(1)} | ${p50(raw.map((p) => p.answer)).toFixed(1)} | ${(p50(ours.map((p) => p.answer)) / p50(raw.map((p) => p.answer))).toFixed(2)} |`)
  const step = <T>(list: T[], end: (p: T) => number, start: (p: T) => number): string => p50(list.map((p) => end(p) - start(p))).toFixed(1)
  profiles.push(`| ${size} MB | raw QEMU (${label}) | ${step(raw, (p) => p.overlay, () => 0)} | ${step(raw, (p) => p.spawn, (p) => p.overlay)} | ${step(raw, (p) => p.qmp, (p) => p.spawn)} | ${step(raw, (p) => p.migration, (p) => p.qmp)} | ${step(raw, (p) => p.resume, (p) => p.migration)} | ${step(raw, (p) => p.answer, (p) => p.resume)} | ${p50(raw.map((p) => p.answer)).toFixed(1)} |`)
  profiles.push(`| ${size} MB | line (${label}) | clone() ${step(ours, (p) => p.clone, () => 0)} | | | | resume() ${step(ours, (p) => p.resume, (p) => p.clone)} | ${step(ours, (p) => p.answer, (p) => p.resume)} | ${p50(ours.map((p) => p.answer)).toFixed(1)} |`)
}

/**
 * Raw clones (no line code: the translation cache size is QEMU's business) of one golden per TCG
 * translation cache size, taken in turn so that every size sees the same load.
 */
async function timeTbSizes (lines: QemuProductionLine[], hardware: GoldenImage['hardware'], work: string, count: number): Promise<void> {
  const goldens = await Promise.all(lines.map(async (each) => await each.prepareGolden({ hardware, actions: [] })))
  const metas = await Promise.all(goldens.map(async (golden) => await readGoldenMeta(golden.dir)))
  const samples: RawPhases[][] = lines.map(() => [])
  for (let i = 0; i < count; i++) {
    for (const [k, each] of lines.entries()) {
      samples[k]?.push(await rawClone(each.init.qemuBinary, each.init.qemuImg, goldens[k] as GoldenImage, metas[k] as GoldenMeta, join(work, `tb-${k}-${i}`)))
    }
  }
  for (const [k, each] of lines.entries()) {
    rows.push({ size: hardware.memoryMB, method: `raw QEMU, tb-size ${each.init.tbSizeMB} (sizes taken in turn)`, samples: (samples[k] ?? []).map((p) => p.answer) })
  }
}

/** Guest-to-host MB/s of the agent: dd writes `mb` MB of zeros in 64 KiB blocks to the action's stdout. */
async function timeThroughput (line: QemuProductionLine, golden: GoldenImage, mb: number): Promise<void> {
  await line.clone(golden, 'throughput')
  await line.resume('throughput')
  const rates: number[] = []
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now()
    const result = await line.runBinary('throughput', { id: 'tp', run: `dd if=/dev/zero bs=65536 count=${mb * 16} 2>/dev/null`, timeoutMs: 600_000 })
    const seconds = (performance.now() - t0) / 1000
    if (result.stdout.length !== mb * 1024 * 1024) throw new Error(`throughput run returned ${result.stdout.length} bytes`)
    rates.push(mb / seconds)
  }
  await line.destroy('throughput')
  const sorted = rates.sort((a, b) => a - b)
  extra.push(`agent guest to host (${mb} MB of dd bs=64k, 5 runs): p50 ${p50(sorted).toFixed(1)} MB/s, min ${(sorted[0] as number).toFixed(1)}, max ${(sorted[sorted.length - 1] as number).toFixed(1)}`)
}

/** A copy of the golden whose RAM and disk are full copies; the small files are hard links. */
async function timeFullCopy (line: QemuProductionLine, golden: GoldenImage, ramDir: string, count: number): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    const copy = join(ramDir, `copy-${i}`)
    mkdirSync(copy)
    const t0 = performance.now()
    execFileSync('cp', ['--sparse=never', join(golden.dir, GOLDEN_FILES.memory), join(golden.dir, GOLDEN_FILES.disk), copy])
    for (const name of readdirSync(golden.dir)) {
      if (name !== GOLDEN_FILES.memory && name !== GOLDEN_FILES.disk) linkSync(join(golden.dir, name), join(copy, name))
    }
    const vmid = `copy-${i}`
    await line.clone({ ...golden, dir: copy }, vmid)
    await line.resume(vmid)
    await line.ping(vmid)
    samples.push(performance.now() - t0)
    await line.destroy(vmid)
    rmSync(copy, { recursive: true, force: true })
  }
  return samples
}

async function timeColdBoots (line: QemuProductionLine, golden: GoldenImage, work: string, count: number): Promise<number[]> {
  const meta = await readGoldenMeta(golden.dir)
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    const dir = join(work, `cold-${i}`)
    mkdirSync(dir)
    const token = randomBytes(6).toString('hex')
    const t0 = performance.now()
    const booted = await coldBoot(line.init.qemuBinary, {
      memoryMB: meta.memoryMB,
      accel: meta.accel,
      tbSizeMB: meta.tbSizeMB,
      kernel: join(golden.dir, GOLDEN_FILES.kernel),
      initrd: join(golden.dir, GOLDEN_FILES.initrd),
      append: kernelAppend(false),
      console: join(dir, 'console.log'),
      agentSocket: join(dir, 'agent.sock'),
      qmpSocket: join(dir, 'qmp.sock'),
      pidFile: join(dir, 'qemu.pid'),
      token,
      incoming: false
    }, join(dir, 'qemu.log'), { timeoutMs: 120_000 })
    samples.push(performance.now() - t0)
    booted.agent.close()
    booted.qmp.close()
    await killAndWait(booted.pid, token)
    rmSync(dir, { recursive: true, force: true })
  }
  return samples
}

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'vmplant-bench-'))
  const ramDir = mkdtempSync(join('/dev/shm', 'vmplant-bench-'))
  const line = qemuLine({ workDir: join(work, 'line'), goldenDir: ramDir })
  const pooled = qemuLine({ workDir: join(work, 'pool'), goldenDir: ramDir, poolSize: POOL_SIZE, poolSpawns: POOL_SPAWNS, poolMax: POOL_MAX, poolNiceness: POOL_NICENESS })
  const tbLines = TB_SIZES.map((tb) => qemuLine({ workDir: join(work, `tb${tb}`), goldenDir: ramDir, tbSizeMB: tb }))
  try {
    await line.start()
    await pooled.start()
    for (const each of tbLines) await each.start()
    for (const size of SIZES) {
      const hardware = { memoryMB: size, os: 'linux', arch: 'x86_64' }
      const golden = await line.prepareGolden({ hardware, actions: [] })
      accel = (await readGoldenMeta(golden.dir)).accel
      console.error(`golden ${size} MB ready (${accel}): ${golden.dir}`)
      await timeAgainstRaw(line, golden, work, COUNT, `clone, tb-size ${line.init.tbSizeMB}`)
      rows.push({ size, method: `clone, warm pool of ${POOL_SIZE}`, samples: await timeClones(pooled, golden, COUNT, async () => { await pooled.warm([golden]) }) })
      // back to back: the pool is full once, then the clones follow each other while it refills behind them
      await pooled.warm([golden])
      rows.push({ size, method: `clone, warm pool of ${POOL_SIZE}${POOL_MAX > POOL_SIZE ? ` growing to ${POOL_MAX}` : ''} (${POOL_SPAWNS} spawns at once, niceness ${POOL_NICENESS}), back to back`, samples: await timeClones(pooled, golden, COUNT) })
      if (BASELINE_COUNT > 0) {
        rows.push({ size, method: 'full copy (cp --sparse=never) + resume', samples: await timeFullCopy(line, golden, ramDir, BASELINE_COUNT) })
        rows.push({ size, method: 'cold boot', samples: await timeColdBoots(line, golden, work, BASELINE_COUNT) })
      }
      if (size === SIZES[0]) {
        if (THROUGHPUT_MB > 0) await timeThroughput(line, golden, THROUGHPUT_MB)
        if (tbLines.length > 0) await timeTbSizes([line, ...tbLines], hardware, work, COUNT)
      }
      console.error(`size ${size} MB done`)
    }
  } finally {
    for (const each of tbLines) await each.stop({ destroyAll: true })
    await pooled.stop({ destroyAll: true })
    await line.stop({ destroyAll: true })
    rmSync(work, { recursive: true, force: true })
    rmSync(ramDir, { recursive: true, force: true })
  }
  const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()
  console.log(`bench/clone ${new Date().toISOString()} on ${hostname()}: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load ${load}, accel ${accel}`)
  console.log(`command: node dist/bench/clone.js ${process.argv.slice(2).join(' ')}`.trim())
  console.log('')
  console.log('| golden RAM | method | n | p50 ms | p99 ms | min ms | max ms |')
  console.log('|---:|---|---:|---:|---:|---:|---:|')
  for (const row of rows) {
    const sorted = [...row.samples].sort((a, b) => a - b)
    const f = (n: number): string => n.toFixed(1)
    console.log(`| ${row.size} MB | ${row.method} | ${sorted.length} | ${f(percentile(sorted, 50))} | ${f(percentile(sorted, 99))} | ${f(sorted[0] as number)} | ${f(sorted[sorted.length - 1] as number)} |`)
  }
  console.log('')
  console.log('Overhead: the line\'s p50 over the raw-QEMU p50 of the same run (samples alternated)')
  console.log('')
  console.log('| golden RAM | line | line p50 ms | raw p50 ms | ratio |')
  console.log('|---:|---|---:|---:|---:|')
  for (const row of ratios) console.log(row)
  console.log('')
  console.log('Where the milliseconds go (p50 of each step, ms)')
  console.log('')
  console.log('| golden RAM | path | overlay | spawn to QMP greeting | QMP capabilities | migration | resume (cont) | first answer | total |')
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const row of profiles) console.log(row)
  console.log('')
  for (const line of extra) console.log(line)
}

await main()
