/**
 * bench/load: many creates in flight at once through one shop, every node its own OS process on
 * 127.0.0.1 (the machinery of test/helpers/load.ts). Fires --creates creates at once from
 * --clients client nodes, then reports outcomes (VMs, busy refusals, other errors), latency p50
 * and p99, throughput, and the lost/duplicate checks: the VMs the plants list (and, on the sim
 * line, the VM files on their lines) against the VMIDs the clients were given. Then destroys every
 * VM and checks that the plants hold none.
 * Before the burst, --bid-rounds calls that every plant prices and declines (a VM larger than any
 * plant's memory), fired at once: bidding alone, no production, so their CPU (utime + stime from
 * /proc) divided by the answers is the CPU of one bid on the plant side and of one offer on the
 * shop side. With --cpu-prof DIR every node runs under `node --cpu-prof` and writes its profile
 * to DIR when it stops.
 * Usage: node dist/bench/load.js [--line sim|qemu] [--creates 1000] [--plants 10] [--clients 10]
 *        [--pool 0] [--memory 64 (sim), 128 (qemu)] [--shop-max N] [--plant-max N]
 *        [--bid-rounds 300] [--choices D] [--cpu-prof DIR] [--keep]
 * e.g.   node dist/bench/load.js --line sim --creates 1000
 *        node dist/bench/load.js --line qemu --creates 50 --plants 2 --clients 2
 */
import { parseArgs } from 'node:util'
import { spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { cpus, loadavg } from 'node:os'
import { readFile, rm } from 'node:fs/promises'
import { parseStat } from '../src/hypervisor/proc.js'
import { join } from 'node:path'
import { tempDir } from '../test/helpers/temp.js'
import { eventually } from '../test/helpers/processes.js'
import { defaultGoldenShmDir } from '../src/daemon/create-line.js'
import {
  countOutcomes, destroyAll, fireCreates, ledgerProblems, listAll, simLineVms, startClients, startLoadFederation, warmPlants,
  type LoadFederation
} from '../test/helpers/load.js'
import type { VmplantClient } from '../src/cli/client.js'
import { summarize, wholeOption as whole } from './stats.js'

const { values } = parseArgs({
  options: {
    line: { type: 'string', default: 'sim' },
    creates: { type: 'string', default: '1000' },
    plants: { type: 'string', default: '10' },
    clients: { type: 'string', default: '10' },
    pool: { type: 'string', default: '0' },
    memory: { type: 'string' },
    'shop-max': { type: 'string' },
    choices: { type: 'string' },
    'plant-max': { type: 'string' },
    'bid-rounds': { type: 'string', default: '300' },
    'cpu-prof': { type: 'string' },
    keep: { type: 'boolean', default: false }
  }
})

const line = values.line
if (line !== 'sim' && line !== 'qemu') {
  console.error(`--line is sim or qemu, not "${line}"`)
  process.exit(2)
}
const creates = whole('creates', values.creates, 1, 100_000)
const plants = whole('plants', values.plants, 1, 100)
const clientCount = whole('clients', values.clients, 1, 100)
const pool = whole('pool', values.pool, 0, 64)
// the QEMU line makes VMs of 128 MB and more
const memoryMB = whole('memory', values.memory ?? (line === 'qemu' ? '128' : '64'), 16, 65536)
const shopMax = values['shop-max'] !== undefined ? whole('shop-max', values['shop-max'], 1, 1_000_000) : undefined
/** the shop's power of d choices (`shop.choices`): calls d random bidders on streams; absent, it publishes every call */
const choices = values.choices !== undefined ? whole('choices', values.choices, 1, 10_000) : undefined
const plantMax = values['plant-max'] !== undefined ? whole('plant-max', values['plant-max'], 1, 100_000) : creates

const bidRounds = whole('bid-rounds', values['bid-rounds'], 0, 100_000)
const spec = { hardware: { memoryMB, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }
/** the largest VM a spec may ask for, more than any plant here has (below): every plant prices it and declines */
const BID_ONLY_MEMORY_MB = 65_536
const bidOnlySpec = { ...spec, hardware: { ...spec.hardware, memoryMB: BID_ONLY_MEMORY_MB } }
const cpuProf = values['cpu-prof']
const driver = line === 'sim'
  ? { kind: 'sim', cloneMs: 5, resumeMs: 5, actionMs: 5, goldenMs: 10 }
  : { kind: 'qemu', poolSize: pool }
const dir = await tempDir('vmplant-bench-load-')
let federation: LoadFederation | undefined
let clients: VmplantClient[] = []
const log = (s: string): void => { console.log(s) }
/** USER_HZ: /proc/<pid>/stat's clock ticks per second */
const USER_HZ = 100
/** how long the nodes' idle CPU is sampled before the bid-only rounds */
const IDLE_SAMPLE_MS = 5000
const cpuTicks = async (pid: number): Promise<number> => parseStat(await readFile(`/proc/${pid}/stat`, 'utf8')).ticks
// an interrupted run still ends the nodes it started (their VMs, on the QEMU line, are left to the log)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { void federation?.kill().finally(() => process.exit(130)) })
}

try {
  log(`bench/load: ${creates} creates in flight on ${plants} ${line} plant(s) from ${clientCount} client(s); ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  const setup = performance.now()
  federation = await startLoadFederation({
    dir: dir.path,
    plants,
    shop: { bidWindowMs: 30_000, orderTimeoutMs: line === 'sim' ? 60_000 : 600_000, ...(shopMax !== undefined ? { maxPendingCreates: shopMax } : {}), ...(choices !== undefined ? { choices } : {}) },
    plant: {
      // a sim plant has a little less than the bid-only VM needs, unless its share of the burst needs more
      memoryMB: line === 'sim' ? Math.max(BID_ONLY_MEMORY_MB - 1, 2 * Math.ceil(creates / plants) * memoryMB) : Math.max(4096, Math.ceil(creates / plants) * (memoryMB + 96)),
      maxQueuedOrders: plantMax,
      cost: { model: 'paper', maxVms: Math.max(32, creates), maxNetworks: clientCount + 4 },
      driver,
      ...(line === 'qemu' ? { networks: 'model' } : {})
    },
    startTimeoutMs: 120_000,
    ...(cpuProf !== undefined ? { wrapper: ['sh', '-c', `exec "$0" --cpu-prof --cpu-prof-dir='${cpuProf}' "$@"`] } : {})
  })
  const peers = federation.plants.map((p) => p.ready.peer)
  clients = await startClients(federation.shopAddr, clientCount)
  // every plant makes (and destroys) a VM first: a QEMU plant builds its golden image then
  const warm = await warmPlants(clients, spec, peers, line === 'sim' ? 60_000 : 600_000)
  log(`set up in ${((performance.now() - setup) / 1000).toFixed(1)} s (warm-up: ${warm} creates); load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)

  const nodes = [federation.shop, ...federation.plants]
  const cpuOf = async (): Promise<number[]> => await Promise.all(nodes.map(async (n) => await cpuTicks(n.pid)))
  let bidCpuMs: number | undefined
  if (bidRounds > 0) {
    // what the nodes spend idle (gossipsub heartbeats, the DHT, load timers), to set against the rounds
    const idleBefore = await cpuOf()
    const idleStarted = performance.now()
    await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS))
    const idleWall = (performance.now() - idleStarted) / 1000
    const idle = (await cpuOf()).map((t, i) => (t - (idleBefore[i] as number)) / USER_HZ * 1000 / idleWall)
    log(`idle CPU over ${idleWall.toFixed(1)} s: shop ${(idle[0] as number).toFixed(0)} ms/s, plants ${idle.slice(1).reduce((a, b) => a + b, 0).toFixed(0)} ms/s together`)
    const before = await cpuOf()
    const started = performance.now()
    const rounds = await fireCreates(clients, bidRounds, bidOnlySpec, 'bids')
    const wall = (performance.now() - started) / 1000
    const used = (await cpuOf()).map((t, i) => (t - (before[i] as number)) / USER_HZ * 1000)
    // the shop's answer names every decline: "<peer>: needs 1048576 MB, ... free"
    const answers = rounds.reduce((n, o) => n + (o.ok ? 0 : o.message.match(/: needs \d+ MB/g)?.length ?? 0), 0)
    const made = rounds.filter((o) => o.ok).length
    const plantMs = used.slice(1)
    const plantTotal = plantMs.reduce((a, b) => a + b, 0)
    bidCpuMs = plantTotal / Math.max(1, answers)
    log(`bid-only rounds: ${bidRounds} calls, ${answers} declines of ${bidRounds * plants} expected${made > 0 ? `, ${made} VMs (unexpected)` : ''}, ${wall.toFixed(1)} s; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
    const odd = rounds.find((o) => !o.ok && !/: needs \d+ MB/.test(o.message))
    if (odd !== undefined && !odd.ok) log(`  e.g. ${odd.code}: ${odd.message.slice(0, 300)}`)
    // less what the nodes would have spent idle over the same time
    const plantIdle = idle.slice(1).reduce((a, b) => a + b, 0) * wall
    const shopIdle = (idle[0] as number) * wall
    log(`CPU per bid (plant): ${bidCpuMs.toFixed(3)} ms, ${((plantTotal - plantIdle) / Math.max(1, answers)).toFixed(3)} ms less idle (plants ${(plantTotal / 1000).toFixed(1)} s; per plant ${Math.min(...plantMs).toFixed(0)}-${Math.max(...plantMs).toFixed(0)} ms)`)
    log(`CPU per offer (shop): ${((used[0] as number) / Math.max(1, answers)).toFixed(3)} ms, ${(((used[0] as number) - shopIdle) / Math.max(1, answers)).toFixed(3)} ms less idle (shop ${((used[0] as number) / 1000).toFixed(1)} s, ${((used[0] as number) / bidRounds).toFixed(2)} ms per call)`)
  }
  const cpuBefore = await cpuOf()
  const burst = performance.now()
  const outcomes = await fireCreates(clients, creates, spec, 'load')
  const wallS = (performance.now() - burst) / 1000
  const cpuS = (await Promise.all(nodes.map(async (n) => await cpuTicks(n.pid)))).map((t, i) => (t - (cpuBefore[i] as number)) / USER_HZ)
  const counts = countOutcomes(outcomes)
  const all = summarize(outcomes.map((o) => o.ms))
  const ok = summarize(outcomes.flatMap((o) => o.ok ? [o.ms] : []))
  log(`outcomes: ${counts.vms} VMs, ${counts.busy} busy, other ${JSON.stringify(counts.other)}`)
  const reasons = new Map<string, number>()
  for (const o of outcomes) if (!o.ok) reasons.set(`${o.code}: ${o.message.replace(/[0-9a-zA-Z]{8,}/g, '…').slice(0, 120)}`, (reasons.get(`${o.code}: ${o.message.replace(/[0-9a-zA-Z]{8,}/g, '…').slice(0, 120)}`) ?? 0) + 1)
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 8)) log(`  ${n} x ${reason}`)
  log(`latency, every answer: p50 ${all.p50.toFixed(0)} ms, p99 ${all.p99.toFixed(0)} ms, max ${all.max.toFixed(0)} ms`)
  log(`latency, VMs made:     p50 ${ok.p50.toFixed(0)} ms, p99 ${ok.p99.toFixed(0)} ms`)
  log(`throughput: ${(outcomes.length / wallS).toFixed(1)} answers/s, ${(counts.vms / wallS).toFixed(1)} VMs/s (${wallS.toFixed(1)} s for the burst)`)
  // every plant prices every call (no choices): a plant's CPU over the burst, bids and its share of the productions
  const plantCpu = cpuS.slice(1).reduce((a, b) => a + b, 0)
  log(`CPU over the burst: shop ${(cpuS[0] as number).toFixed(1)} s (${((cpuS[0] as number) / creates * 1000).toFixed(2)} ms per create, ${((cpuS[0] as number) / (creates * plants) * 1000).toFixed(2)} ms per offer); plants ${plantCpu.toFixed(1)} s (${(plantCpu / (creates * plants) * 1000).toFixed(2)} ms per bid, productions included)`)
  if (bidCpuMs !== undefined && counts.vms > 0) log(`plant CPU per VM made, less its bids at the bid-only rate: ${((plantCpu * 1000 - bidCpuMs * creates * plants) / counts.vms).toFixed(2)} ms`)
  const made = outcomes.flatMap((o) => o.ok ? [{ result: o.result, client: o.client }] : [])
  const results = made.map((m) => m.result)
  log(`VMs per plant: ${peers.map((p) => results.filter((r) => r.classad.plant === p).length).join(' ')}`)

  const listed = await listAll(clients)
  const listProblems = ledgerProblems(results, listed.vms.map((vm) => ({ vmid: vm.vmid, plant: vm.plant, state: vm.state })))
  log(`listed: ${listed.vms.length} VMs, ${listed.unreachable.length} plants unreachable; lost/duplicated: ${listProblems.length === 0 ? 'none' : listProblems.slice(0, 5).join('; ')}`)
  if (line === 'sim') {
    const onLines = (await Promise.all(federation.plantDirs.map(async (d, i) => (await simLineVms(d)).map((vmid) => ({ vmid, plant: peers[i] as string }))))).flat()
    const lineProblems = ledgerProblems(results, onLines)
    log(`on the lines: ${onLines.length} VMs; lost/duplicated: ${lineProblems.length === 0 ? 'none' : lineProblems.slice(0, 5).join('; ')}`)
  }
  const destroyStart = performance.now()
  const destroyErrors = await destroyAll(clients, made, line === 'sim' ? 25 : 5)
  log(`destroyed ${made.length - destroyErrors.length} in ${((performance.now() - destroyStart) / 1000).toFixed(1)} s${destroyErrors.length > 0 ? `; failed: ${destroyErrors.slice(0, 3).map((e) => `${e.vmid}: ${e.error}`).join('; ')}` : ''}`)
  const c = clients
  const left = await eventually(async () => await listAll(c), 10_000)
  log(`left after destroy: ${left.vms.length} VMs listed`)
  process.exitCode = listProblems.length === 0 && destroyErrors.length === 0 && left.vms.length === 0 ? 0 : 1
} catch (err) {
  console.error(`bench/load failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  process.exitCode = 1
} finally {
  await Promise.all(clients.map(async (c) => { await c.stop() }))
  // a node writes its --cpu-prof profile when it exits, so the shop too gets a graceful stop
  if (cpuProf !== undefined) await federation?.shop.kill('SIGTERM')
  await federation?.stopPlants()
  await federation?.kill()
  if (line === 'qemu' && federation !== undefined) {
    // VMs outlive a plant's stop: a QEMU process left by a failed destroy is found by its folder, and killed by pid
    const left = spawnSync('pgrep', ['-f', dir.path], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '').map(Number)
    for (const pid of left) { try { process.kill(pid, 'SIGKILL') } catch {} }
    if (left.length > 0) log(`killed ${left.length} QEMU process(es) left behind`)
    // the QEMU line keeps golden RAM files on tmpfs, outside the data folder
    for (const d of federation.plantDirs) await rm(defaultGoldenShmDir(join(d, 'line')), { recursive: true, force: true })
  }
  if (values.keep !== true) await dir.remove()
  else log(`kept ${dir.path}`)
}
