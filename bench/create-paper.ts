/**
 * bench/create --paper: the paper's experiment (section 4.2) as it ran it. N creates in sequence
 * through a shop on P QEMU plants, every VM kept running, each configured by the paper's two
 * actions (eth0's address, netmask, link and default route; a user account). Reports each
 * create's latency against the VMs already running, the host CPU the idle guests then cost, and
 * the one-at-a-time variant (each VM destroyed before the next create) as a second series.
 */
import { performance } from 'node:perf_hooks'
import { cpus, hostname, totalmem } from 'node:os'
import { readFile, writeFile } from 'node:fs/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startEmbeddedFederation, type EmbeddedFederation } from '../src/daemon/embedded.js'
import { VmplantClient } from '../src/cli/client.js'
import { COST_DEFAULTS } from '../src/pricing/index.js'
import { lineChart } from '../sim/svg.js'
import { summarize, type Summary } from './stats.js'
import { cpuSeconds, hostCpu, killQemuChildren, qemuChildren } from './qemu-cpu.js'

export interface PaperOptions {
  vms: number
  /** guest memory, MB */
  memory: number
  plants: number
  /** how long the idle guests' CPU is measured, s */
  idleSeconds: number
  /** the kept run, the one-at-a-time run, or both */
  modes: Array<'kept' | 'one-at-a-time'>
  /** files written: `<out>.csv` and `<out>.svg` */
  out: string
}

interface Row { mode: string, index: number, running: number, latencyMs: number, biddingMs: number, cloningMs: number, configuringMs: number, plant: string }

/** The VM's address on its domain's /24 (a.b.c.2 upwards), its gateway .1. */
function addressOf (i: number): { ip: string, gateway: string } {
  const net = `10.10.${Math.floor(i / 250)}`
  return { ip: `${net}.${(i % 250) + 2}`, gateway: `${net}.1` }
}

/** The paper's two actions, with busybox in the guest: eth0 set up for real, and a user with a password. */
export function paperSpec (i: number, memoryMB: number): unknown {
  const { ip, gateway } = addressOf(i)
  return {
    hardware: { memoryMB, os: 'linux' },
    actions: [
      {
        id: 'network',
        run: [
          `ifconfig eth0 ${ip} netmask 255.255.255.0 up`,
          `route add default gw ${gateway} eth0`,
          `ip -4 addr show dev eth0 | grep -q 'inet ${ip}/24'`,
          `ip route | grep -q '^default via ${gateway} dev eth0'`,
          `echo ip_address=${ip}`
        ].join(' && '),
        exports: ['ip_address']
      },
      {
        id: 'user',
        run: [
          "grep -q '^griduser:' /etc/passwd || { echo 'griduser:x:1000:1000:grid user:/home/griduser:/bin/sh' >> /etc/passwd",
          "echo 'griduser:x:1000:' >> /etc/group",
          'echo "griduser:$(mkpasswd -m sha512 gridpass):20000:0:99999:7:::" >> /etc/shadow',
          'chmod 600 /etc/shadow',
          'mkdir -p /home/griduser',
          'chown 1000:1000 /home/griduser; }',
          'id griduser'
        ].join(' && '),
        after: ['network']
      }
    ]
  }
}

async function loadAverage (): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')
}

/** Ends the federation and any QEMU child it left, on return, error, Ctrl-C or exit. */
function guard (stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined
  const once = async (): Promise<void> => {
    stopping ??= stop().finally(() => {
      const left = killQemuChildren()
      if (left.length > 0) console.error(`killed ${left.length} QEMU process(es) the stop left: ${left.join(' ')}`)
    })
    await stopping
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`${signal}: stopping the plants and their QEMU processes`)
    once().finally(() => process.exit(130))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', () => { killQemuChildren() })
  return once
}

function fmt (s: Summary): string {
  return `p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, mean ${s.mean.toFixed(0)} ms, min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)}`
}

async function create (client: VmplantClient, spec: unknown, domain: string): Promise<{ ms: number, classad: Awaited<ReturnType<VmplantClient['create']>>['classad'] }> {
  const started = performance.now()
  const { classad } = await client.create(spec, domain)
  return { ms: performance.now() - started, classad }
}

/**
 * The first create on a plant builds its golden image (and, on a fresh machine, the guest
 * image). One create per plant in its own domain, kept until all are made: under the paper's
 * cost a plant with a VM bids above the idle ones, so each plant gets one. Not in the sample.
 */
async function warmUp (client: VmplantClient, federation: EmbeddedFederation, memory: number): Promise<void> {
  const made: string[] = []
  const plants = new Set<string>()
  for (let p = 0; p < federation.plants.length; p++) {
    const { ms, classad } = await create(client, paperSpec(p, memory), `warm-${p}`)
    made.push(classad.vmid)
    plants.add(classad.plant)
    console.error(`warm-up ${p + 1}/${federation.plants.length}: plant ${classad.plant.slice(-8)} in ${(ms / 1000).toFixed(1)} s`)
  }
  for (const vmid of made) await client.destroy(vmid)
  if (plants.size < federation.plants.length) console.error(`note: the warm-up reached ${plants.size} of ${federation.plants.length} plants; the others build their golden image inside the sample`)
}

export async function runPaper (o: PaperOptions): Promise<void> {
  const federation = await startEmbeddedFederation({
    plants: o.plants,
    plant: {
      driver: { kind: 'qemu', poolSize: 0, accel: 'auto', tbSizeMB: 64, diskMB: 64, overheadMB: 64 },
      // the paper's plants took VMs until memory ran out; here the host's, shared by the plants
      memoryMB: Math.floor(totalmem() / 1024 / 1024 * 0.9),
      cost: { ...COST_DEFAULTS, model: 'paper', maxVms: o.vms, maxNetworks: o.plants + 4 }
    }
  })
  const client = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
  const stop = guard(async () => { await client.stop(); await federation.stop() })
  const rows: Row[] = []
  const loads: string[] = [await loadAverage()]
  let idle: { seconds: number, guests: number, perGuest: number[], hostBusy: number } | undefined
  try {
    await federation.ready()
    await client.start()
    await warmUp(client, federation, o.memory)
    const record = (mode: string, index: number, running: number, ms: number, classad: Awaited<ReturnType<typeof create>>['classad']): void => {
      const t = classad.timings
      rows.push({ mode, index, running, latencyMs: ms, biddingMs: t.biddingMs, cloningMs: t.cloningMs, configuringMs: t.configuringMs, plant: classad.plant.slice(-8) })
      if (index === 0) console.error(`${mode} 1: ${Object.entries(classad.outputs).map(([id, r]) => `${id} (exit ${r.exitCode}): ${r.stdout.trim().split('\n').join('; ')}`).join(' | ')}`)
      if (index % 8 === 0 || index === o.vms - 1) console.error(`${mode} ${index + 1}/${o.vms}: ${running} running, ${ms.toFixed(0)} ms (bidding ${t.biddingMs.toFixed(0)}, cloning ${t.cloningMs.toFixed(0)}, configuring ${t.configuringMs.toFixed(0)}) on ${classad.plant.slice(-8)}, load ${latest(loads)}`)
    }
    if (o.modes.includes('kept')) {
      const kept: string[] = []
      for (let i = 0; i < o.vms; i++) {
        const { ms, classad } = await create(client, paperSpec(i, o.memory), 'paper')
        kept.push(classad.vmid)
        loads.push(await loadAverage())
        record('kept', i, i, ms, classad)
      }
      // the idle guests' cost: CPU of every QEMU process over an interval in which nothing is asked of them
      const before = await qemuChildren()
      const hostBefore = await hostCpu()
      const started = performance.now()
      await new Promise((resolve) => setTimeout(resolve, o.idleSeconds * 1000))
      const seconds = (performance.now() - started) / 1000
      const after = await qemuChildren()
      const hostAfter = await hostCpu()
      idle = { seconds, guests: after.length, perGuest: cpuSeconds(before, after).map((s) => s / seconds), hostBusy: (hostAfter.busy - hostBefore.busy) / Math.max(1, hostAfter.total - hostBefore.total) }
      loads.push(await loadAverage())
      for (const vmid of kept) await client.destroy(vmid)
    }
    if (o.modes.includes('one-at-a-time')) {
      for (let i = 0; i < o.vms; i++) {
        const { ms, classad } = await create(client, paperSpec(i, o.memory), 'paper')
        await client.destroy(classad.vmid)
        loads.push(await loadAverage())
        record('one-at-a-time', i, 0, ms, classad)
      }
    }
  } finally {
    await stop()
  }
  await report(o, rows, idle, loads)
}

function latest (loads: string[]): string {
  return loads[loads.length - 1] ?? '?'
}

async function report (o: PaperOptions, rows: Row[], idle: { seconds: number, guests: number, perGuest: number[], hostBusy: number } | undefined, loads: string[]): Promise<void> {
  console.log(`# bench/create --paper on ${hostname()} (${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB), node ${process.version}, ${new Date().toISOString()}`)
  console.log(`# ${o.vms} VMs of ${o.memory} MB on ${o.plants} QEMU plants, load average (1, 5, 15 min) at start ${loads[0]}, at end ${loads[loads.length - 1]}`)
  console.log('mode | n | p50 ms | p99 ms | mean ms | first ms | last ms | last/first | mean of first 8 | mean of last 8')
  for (const mode of ['kept', 'one-at-a-time']) {
    const sample = rows.filter((r) => r.mode === mode)
    if (sample.length === 0) continue
    const s = summarize(sample.map((r) => r.latencyMs))
    const first = sample[0]?.latencyMs ?? NaN
    const last = sample[sample.length - 1]?.latencyMs ?? NaN
    const head = summarize(sample.slice(0, 8).map((r) => r.latencyMs)).mean
    const tail = summarize(sample.slice(-8).map((r) => r.latencyMs)).mean
    console.log(`${mode} | ${sample.length} | ${s.p50.toFixed(0)} | ${s.p99.toFixed(0)} | ${s.mean.toFixed(0)} | ${first.toFixed(0)} | ${last.toFixed(0)} | ${(last / first).toFixed(2)} | ${head.toFixed(0)} | ${tail.toFixed(0)}`)
    console.log(`  plant side: cloning ${fmt(summarize(sample.map((r) => r.cloningMs)))}; configuring ${fmt(summarize(sample.map((r) => r.configuringMs)))}`)
    const perPlant = new Map<string, number>()
    for (const r of sample) perPlant.set(r.plant, (perPlant.get(r.plant) ?? 0) + 1)
    console.log(`  VMs per plant: ${[...perPlant].map(([p, n]) => `${p} ${n}`).join(', ')}`)
  }
  if (idle !== undefined) {
    const s = summarize(idle.perGuest.map((c) => c * 100))
    const total = idle.perGuest.reduce((a, b) => a + b, 0)
    console.log(`idle: ${idle.guests} QEMU processes over ${idle.seconds.toFixed(1)} s: ${(total * 100).toFixed(1)}% of one core in all, per guest p50 ${s.p50.toFixed(2)}%, mean ${s.mean.toFixed(2)}%, max ${s.max.toFixed(2)}% of a core; the host's ${cpus().length} cores were ${(idle.hostBusy * 100).toFixed(0)}% busy`)
  }
  const csv = ['mode,index,running_before,latency_ms,bidding_ms,cloning_ms,configuring_ms,plant', ...rows.map((r) => [r.mode, r.index, r.running, r.latencyMs.toFixed(1), r.biddingMs.toFixed(1), r.cloningMs.toFixed(1), r.configuringMs.toFixed(1), r.plant].join(','))]
  await writeFile(`${o.out}.csv`, csv.join('\n') + '\n')
  await writeFile(`${o.out}.svg`, paperChart(rows, o))
  console.log(`wrote ${o.out}.csv and ${o.out}.svg`)
}

/** Like the paper's figure 6 (cloning time against the request's sequence number), with the whole create beside it. */
export function paperChart (rows: Row[], o: Pick<PaperOptions, 'vms' | 'memory' | 'plants'>): string {
  const kept = rows.filter((r) => r.mode === 'kept')
  const one = rows.filter((r) => r.mode === 'one-at-a-time')
  const series = [
    { name: 'create, VMs kept running', points: kept.map((r): [number, number] => [r.index + 1, r.latencyMs / 1000]) },
    { name: 'cloning, VMs kept', points: kept.map((r): [number, number] => [r.index + 1, r.cloningMs / 1000]) },
    { name: 'create, one at a time', points: one.map((r): [number, number] => [r.index + 1, r.latencyMs / 1000]) }
  ].filter((s) => s.points.length > 0)
  return lineChart({
    title: `vmplant create: ${o.vms} VMs of ${o.memory} MB in sequence, ${o.plants} QEMU plants (TCG), 2 guest actions`,
    xLabel: 'request sequence number n (kept: n - 1 VMs already running)',
    yLabel: 'latency, s',
    series
  })
}
