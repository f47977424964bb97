/**
 * bench/throughput (issue 11 item 7): clones made concurrently on one QEMU line, in clones per
 * second, with and without the warm pool, beside raw QEMU clones made the same way (the line's
 * command line spawned by hand, bench/raw-qemu.ts). At each concurrency level, `--count` clones
 * (clone, resume, the agent's first answer) are made by that many workers at once and kept
 * running until the level ends (then destroyed, untimed), so later clones share the host with
 * the earlier ones as on a plant. Reports clones per second (count over the wall time of the
 * batch), p50/p99 of each clone's latency, and for the pool the rate of its first `--pool-size`
 * clones (the burst a full pool serves) apart from the rest (refilled while the batch runs), and
 * the CPU time per clone (this process and its reaped children: QEMU, qemu-img, the migration's
 * cat; for the pool also the refills started during the batch, and the idle clones meanwhile).
 *
 * Run: `npx tsc -p . && node dist/bench/throughput.js [--count 32] [--concurrency 1,2,4,8]
 *   [--memory 128] [--pool-size 16] [--pool-spawns 2] [--pool-max 16] [--pool-niceness 0] [--modes raw,line,pool]`
 * Needs qemu-system-x86_64, qemu-img, gcc and libc6-dev, and the Debian archive for the guest image's first build.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, hostname, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import type { GoldenImage } from '../src/hypervisor/index.js'
import { qemuLine, type QemuProductionLine } from '../src/hypervisor/qemu/index.js'
import { readGoldenMeta } from '../src/hypervisor/qemu/golden.js'
import { rawCloneKept } from './raw-qemu.js'
import { summarize } from './stats.js'

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '32' },
    concurrency: { type: 'string', default: '1,2,4,8' },
    memory: { type: 'string', default: '128' },
    'pool-size': { type: 'string', default: '16' },
    'pool-spawns': { type: 'string', default: '2' },
    'pool-max': { type: 'string' },
    'pool-niceness': { type: 'string', default: '0' },
    modes: { type: 'string', default: 'raw,line,pool' }
  }
})
const COUNT = Number(values.count)
const LEVELS = String(values.concurrency).split(',').map(Number)
const MEMORY = Number(values.memory)
const POOL_SIZE = Number(values['pool-size'])
const POOL_SPAWNS = Number(values['pool-spawns'])
const POOL_MAX = Number(values['pool-max'] ?? values['pool-size'])
const POOL_NICENESS = Number(values['pool-niceness'])
const MODES = String(values.modes).split(',')
for (const [name, n] of [['count', COUNT], ['memory', MEMORY], ['pool-size', POOL_SIZE], ['pool-spawns', POOL_SPAWNS], ...LEVELS.map((l) => ['concurrency', l] as const)] as const) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${String(n)}`)
}
for (const mode of MODES) if (!['raw', 'line', 'pool'].includes(mode)) throw new Error(`--modes: unknown mode "${mode}" (raw, line, pool)`)

/** One clone: its latency and when it finished, ms from the batch's start; `release` destroys it. */
interface Made { latency: number, doneAt: number, release: () => Promise<void> }

/** `count` clones by `concurrency` workers at once; all are kept until the batch is over. */
async function batch (count: number, concurrency: number, make: (i: number) => Promise<Omit<Made, 'doneAt'>>): Promise<{ made: Made[], wallMs: number, cpu: number }> {
  const made: Made[] = []
  let next = 0
  const cpu0 = cpuMs()
  const t0 = performance.now()
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++
      const one = await make(i)
      made.push({ ...one, doneAt: performance.now() - t0 })
    }
  })
  const settled = await Promise.allSettled(workers)
  const wallMs = performance.now() - t0
  await Promise.all(made.map(async (m) => { await m.release() }))
  // children are counted once reaped: after the release; includes what the idle clones and pool refills spent meanwhile
  const cpu = cpuMs() - cpu0
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
  return { made, wallMs, cpu }
}

async function lineClone (line: QemuProductionLine, golden: GoldenImage, vmid: string): Promise<Omit<Made, 'doneAt'>> {
  const t0 = performance.now()
  await line.clone(golden, vmid)
  await line.resume(vmid)
  await line.ping(vmid)
  return { latency: performance.now() - t0, release: async () => { await line.destroy(vmid) } }
}

/** CPU ms of this process and its reaped children (QEMU, qemu-img, the migration's cat): utime, stime, cutime, cstime */
function cpuMs (): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0)
  return ticks * 10
}

function loadavg (): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
}

interface Row { mode: string, concurrency: number, n: number, rate: number, cpuPerClone: number, p50: number, p99: number, burst?: string, load: string }
const rows: Row[] = []

function record (mode: string, concurrency: number, result: { made: Made[], wallMs: number, cpu: number }, load: string, burst?: number): void {
  const s = summarize(result.made.map((m) => m.latency))
  const row: Row = { mode, concurrency, n: result.made.length, rate: result.made.length / (result.wallMs / 1000), cpuPerClone: result.cpu / result.made.length, p50: s.p50, p99: s.p99, load }
  if (burst !== undefined && burst < result.made.length) {
    // the first `burst` clones to finish came from the full pool; the rest waited for refills
    const done = result.made.map((m) => m.doneAt).sort((a, b) => a - b)
    const at = done[burst - 1] as number
    row.burst = `${(burst / (at / 1000)).toFixed(1)} (first ${burst}), ${((result.made.length - burst) / ((result.wallMs - at) / 1000)).toFixed(1)} (rest)`
  }
  rows.push(row)
  console.error(`${mode} x${concurrency}: ${row.rate.toFixed(1)} clones/s, p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms${row.burst !== undefined ? `, pool ${row.burst}` : ''}`)
}

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'vmplant-throughput-'))
  const ramDir = mkdtempSync(join('/dev/shm', 'vmplant-throughput-'))
  const line = qemuLine({ workDir: join(work, 'line'), goldenDir: ramDir })
  const pooled = qemuLine({ workDir: join(work, 'pool'), goldenDir: ramDir, poolSize: POOL_SIZE, poolSpawns: POOL_SPAWNS, poolMax: POOL_MAX, poolNiceness: POOL_NICENESS })
  const started = new Date().toISOString()
  const loadAtStart = loadavg()
  let accel = 'unknown'
  try {
    await line.start()
    await pooled.start()
    const golden = await line.prepareGolden({ hardware: { memoryMB: MEMORY, os: 'linux', arch: 'x86_64' }, actions: [] })
    const meta = await readGoldenMeta(golden.dir)
    accel = meta.accel
    console.error(`golden ${MEMORY} MB ready (${accel})`)
    for (const concurrency of LEVELS) {
      // modes in turn at each level, so that they see about the same load
      for (const mode of MODES) {
        if (mode === 'raw') {
          const result = await batch(COUNT, concurrency, async (i) => {
            const { phases, kill } = await rawCloneKept(line.init.qemuBinary, line.init.qemuImg, golden, meta, join(work, `raw-${concurrency}-${i}`))
            return { latency: phases.answer, release: kill }
          })
          record('raw QEMU, same command line', concurrency, result, loadavg())
        } else if (mode === 'line') {
          record('line, no pool', concurrency, await batch(COUNT, concurrency, async (i) => await lineClone(line, golden, `t-${concurrency}-${i}`)), loadavg())
        } else {
          await pooled.warm([golden])
          const result = await batch(COUNT, concurrency, async (i) => await lineClone(pooled, golden, `p-${concurrency}-${i}`))
          record(`line, warm pool of ${POOL_SIZE}${POOL_MAX > POOL_SIZE ? ` growing to ${POOL_MAX}` : ''} (${POOL_SPAWNS} spawns at once, niceness ${POOL_NICENESS}), full at the start`, concurrency, result, loadavg(), POOL_SIZE)
        }
      }
    }
  } finally {
    await pooled.stop({ destroyAll: true })
    await line.stop({ destroyAll: true })
    rmSync(work, { recursive: true, force: true })
    rmSync(ramDir, { recursive: true, force: true })
  }
  console.log(`bench/throughput ${started} on ${hostname()}: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, accel ${accel}, load at start ${loadAtStart}`)
  console.log(`command: node dist/bench/throughput.js ${process.argv.slice(2).join(' ')}`.trim())
  console.log('')
  console.log('| method | concurrency | n | clones/s | p50 ms | p99 ms | CPU ms per clone | pool: clones/s of the burst, of the rest | load after |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---|---|')
  for (const r of rows) console.log(`| ${r.mode} | ${r.concurrency} | ${r.n} | ${r.rate.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpuPerClone.toFixed(0)} | ${r.burst ?? ''} | ${r.load} |`)
  const raw = rows.filter((r) => r.mode.startsWith('raw'))
  if (raw.length > 0) {
    console.log('')
    console.log('Rate over the raw-QEMU rate at the same concurrency:')
    for (const r of rows.filter((x) => !x.mode.startsWith('raw'))) {
      const base = raw.find((x) => x.concurrency === r.concurrency)
      if (base !== undefined) console.log(`- ${r.mode}, x${r.concurrency}: ${(r.rate / base.rate).toFixed(2)}`)
    }
  }
}

await main()
