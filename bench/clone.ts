/**
 * Latency from the QEMU line's clone() to the guest answering its agent (issue 5), for golden
 * images of several memory sizes, with and without the warm pool, beside two baselines measured
 * in the same run: a full copy of disk and memory (`cp --sparse=never`) then the same resume, and
 * a cold boot of the guest image.
 *
 * Run: `npx tsc -p . && node dist/bench/clone.js [--count 50] [--baseline-count 10] [--sizes 128,512,2048] [--pool-size 2]`
 * Needs qemu-system-x86_64, qemu-img and the Debian archive for the guest image's first build.
 */
import '../src/polyfill.js'
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
import { GOLDEN_FILES, readGoldenMeta } from '../src/hypervisor/qemu/golden.js'
import { killAndWait } from '../src/hypervisor/qemu/process.js'

function flag (name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] as string : fallback
}

const COUNT = Number(flag('count', '50'))
const BASELINE_COUNT = Number(flag('baseline-count', '10'))
const SIZES = flag('sizes', '128,512,2048').split(',').map(Number)
const POOL_SIZE = Number(flag('pool-size', '2'))

interface Row { size: number, method: string, samples: number[] }
const rows: Row[] = []
let accel = 'unknown'

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number
}

async function timeClones (line: QemuProductionLine, golden: GoldenImage, count: number, before?: () => Promise<void>): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    await before?.()
    const vmid = `bench-${i}`
    const t0 = performance.now()
    await line.clone(golden, vmid)
    await line.resume(vmid)
    await line.ping(vmid)
    samples.push(performance.now() - t0)
    await line.destroy(vmid)
  }
  return samples
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
  const pooled = qemuLine({ workDir: join(work, 'pool'), goldenDir: ramDir, poolSize: POOL_SIZE })
  // the per-clone NIC is hot-plugged at resume; the guest handles that before it answers
  const bare = qemuLine({ workDir: join(work, 'bare'), goldenDir: ramDir, nic: false })
  try {
    await line.start()
    await pooled.start()
    await bare.start()
    for (const size of SIZES) {
      const golden = await line.prepareGolden({ hardware: { memoryMB: size, os: 'linux', arch: 'x86_64' }, actions: [] })
      accel = (await readGoldenMeta(golden.dir)).accel
      console.error(`golden ${size} MB ready (${accel}): ${golden.dir}`)
      rows.push({ size, method: 'clone', samples: await timeClones(line, golden, COUNT) })
      rows.push({ size, method: `clone, warm pool of ${POOL_SIZE}`, samples: await timeClones(pooled, golden, COUNT, async () => { await pooled.warm([golden]) }) })
      rows.push({ size, method: 'clone without NIC', samples: await timeClones(bare, golden, COUNT) })
      rows.push({ size, method: 'full copy (cp --sparse=never) + resume', samples: await timeFullCopy(line, golden, ramDir, BASELINE_COUNT) })
      rows.push({ size, method: 'cold boot', samples: await timeColdBoots(line, golden, work, BASELINE_COUNT) })
      console.error(`size ${size} MB done`)
    }
  } finally {
    await bare.stop({ destroyAll: true })
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
    console.log(`| ${row.size} MB | ${row.method} | ${sorted.length} | ${f(percentile(sorted, 0.5))} | ${f(percentile(sorted, 0.99))} | ${f(sorted[0] as number)} | ${f(sorted[sorted.length - 1] as number)} |`)
  }
}

await main()
