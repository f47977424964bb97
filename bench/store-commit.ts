/**
 * bench/store-commit: what the plant's store takes to commit a VM record (with its domain's new
 * network) and to remove it again, on a LevelDB in a folder beside this machine's others (the
 * default: the system's temporary folder; give one on the plants' disk with --dir). Since issue 19
 * both batches are synced (LevelDB fsyncs its log), so this is mostly the disk's fdatasync.
 * Usage: node dist/bench/store-commit.js [--records 200] [--dir DIR]
 */
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { plantStore } from '../src/store/index.js'
import type { Classad } from '../src/interface/messages.js'
import { summarize, wholeOption } from './stats.js'

const { values } = parseArgs({ options: { records: { type: 'string', default: '200' }, dir: { type: 'string' } } })
const records = wholeOption('records', values.records, 1, 100_000)
const dir = await mkdtemp(join(values.dir ?? tmpdir(), 'vmplant-store-commit-'))
const classad = (vmid: string): Classad => ({
  vmid, plant: '12D3KooWExamplePlantPeerId', domain: 'grid', owner: '12D3KooWExampleOwnerPeerId', state: 'running', memoryMB: 128, os: 'linux', arch: 'x86_64',
  line: 'sim', goldenImage: 'g', network: { name: 'hostonly-0', index: 0 }, cost: 50, createdAt: new Date(0).toISOString(),
  timings: { biddingMs: 1, cloningMs: 1, configuringMs: 1, totalMs: 3 }, actions: { cloned: [], run: [] }, outputs: {}, attributes: {}, recovered: []
})
const store = plantStore(join(dir, 'db'))
try {
  await store.start()
  const commits: number[] = []
  const removals: number[] = []
  for (let i = 0; i < records; i++) {
    const vmid = `vm-${i}`
    let started = performance.now()
    await store.commitVm({ classad: classad(vmid), handle: { token: String(i) }, requestId: `r-${i}`, orderedBy: 'shop' }, { domain: 'grid', index: 0, name: 'hostonly-0', allocatedAt: 'now' })
    commits.push(performance.now() - started)
    started = performance.now()
    await store.removeVm(vmid, 'grid')
    removals.push(performance.now() - started)
  }
  console.log(`# bench/store-commit in ${dir}, node ${process.version}, ${new Date().toISOString()}`)
  console.log('measure | n | p50 ms | p99 ms | mean ms | min ms | max ms')
  for (const [name, samples] of [['commitVm', commits], ['removeVm', removals]] as const) {
    const s = summarize(samples)
    console.log(`${name} | ${samples.length} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.mean.toFixed(2)} | ${s.min.toFixed(2)} | ${s.max.toFixed(2)}`)
  }
} finally {
  await store.stop()
  await rm(dir, { recursive: true, force: true })
}
