/**
 * bench/density: N running clones of one golden image on the QEMU line, and the host memory they
 * use (proportional set size of their QEMU processes, so shared golden pages count once) against
 * N x the guest's memory. Usage: node dist/bench/density.js [--clones 50] [--memory 256]
 */
import { parseArgs } from 'node:util'
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { hostname, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { qemuLine } from '../src/hypervisor/qemu/index.js'

const { values } = parseArgs({ options: { clones: { type: 'string', default: '50' }, memory: { type: 'string', default: '256' } } })
const clones = Number(values.clones)
const memoryMB = Number(values.memory)

async function pssKB (pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8')
  return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0)
}

const work = await mkdtemp(join(tmpdir(), 'vmplant-density-'))
const golden = await mkdtemp('/dev/shm/vmplant-density-')
const line = qemuLine({ workDir: work, goldenDir: golden })
try {
  await line.start()
  const image = await line.prepareGolden({ hardware: { memoryMB, os: 'linux', arch: 'x86_64' }, actions: [] })
  const pids: number[] = []
  for (let i = 0; i < clones; i++) {
    await line.clone(image, `d-${i}`)
    const info = await line.resume(`d-${i}`)
    await line.ping(`d-${i}`)
    // each clone touches some memory of its own, as a configured guest would
    await line.runAction(`d-${i}`, { id: 'touch', run: 'dd if=/dev/zero of=/dev/shm/x bs=1M count=4 2>/dev/null; echo ok' })
    if (info.pid !== undefined) pids.push(info.pid)
  }
  let total = 0
  for (const pid of pids) total += await pssKB(pid)
  const usedMB = total / 1024
  console.log(`# bench/density on ${hostname()} (${cpus().length} x ${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString()}`)
  console.log('clones | guest MB | PSS of all QEMU processes MB | per clone MB | N x guest MB | ratio')
  console.log(`${pids.length} | ${memoryMB} | ${usedMB.toFixed(0)} | ${(usedMB / pids.length).toFixed(1)} | ${pids.length * memoryMB} | ${(usedMB / (pids.length * memoryMB)).toFixed(3)}`)
} finally {
  await line.stop({ destroyAll: true })
  await rm(work, { recursive: true, force: true })
  await rm(golden, { recursive: true, force: true })
}
