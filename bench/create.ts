/**
 * bench/create: the paper's experiment (section 4.2) in small: sequential creates through a shop
 * to two QEMU plants, each VM configured by two guest actions (network set-up and a user
 * account), from request to classad. Each VM is destroyed after its create so that the run fits
 * the plants' 32-VM limit and the host's memory. Writes a histogram to docs/bench-create.svg.
 * Usage: node dist/bench/create.js [--creates 128] [--memory 128] [--pool 0]
 *
 * With --paper, the experiment as the paper ran it (create-paper.ts): --vms creates in sequence on
 * --plants QEMU plants, every VM kept running, then the idle guests' CPU over --idle-seconds, then
 * the one-at-a-time variant; writes <--out>.csv and .svg (default docs/bench-create-paper).
 * Usage: node dist/bench/create.js --paper [--vms 128] [--memory 128] [--plants 4] [--idle-seconds 30] [--modes kept,one-at-a-time]
 */
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { hostname, cpus } from 'node:os'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startEmbeddedFederation } from '../src/daemon/embedded.js'
import { VmplantClient } from '../src/cli/client.js'
import { packageRoot } from '../src/paths.js'
import { summarize, wholeOption as whole } from './stats.js'
import { histogramSvg } from './histogram.js'
import { runPaper } from './create-paper.js'

const { values } = parseArgs({
  options: {
    creates: { type: 'string', default: '128' },
    memory: { type: 'string', default: '128' },
    pool: { type: 'string', default: '0' },
    paper: { type: 'boolean', default: false },
    vms: { type: 'string', default: '128' },
    plants: { type: 'string', default: '4' },
    'idle-seconds': { type: 'string', default: '30' },
    modes: { type: 'string', default: 'kept,one-at-a-time' },
    out: { type: 'string', default: join(packageRoot, 'docs', 'bench-create-paper') }
  }
})

if (values.paper === true) {
  const modes = (values.modes ?? '').split(',')
  const bad = modes.find((m) => m !== 'kept' && m !== 'one-at-a-time')
  if (bad !== undefined) {
    console.error(`--modes is a list of kept and one-at-a-time, not "${bad}"`)
    process.exit(2)
  }
  await runPaper({
    vms: whole('vms', values.vms, 1, 1000),
    memory: whole('memory', values.memory, 16, 65536),
    plants: whole('plants', values.plants, 1, 64),
    idleSeconds: whole('idle-seconds', values['idle-seconds'], 1, 3600),
    modes: modes as Array<'kept' | 'one-at-a-time'>,
    out: values.out as string
  })
  process.exit(0)
}
const spec = {
  hardware: { memoryMB: Number(values.memory), os: 'linux' },
  actions: [
    { id: 'network', run: 'ip addr add 10.10.0.2/24 dev lo 2>/dev/null; echo ip_address=10.10.0.2', exports: ['ip_address'] },
    { id: 'user', run: 'echo "griduser:x:1000:1000::/home/griduser:/bin/sh" >> /etc/passwd && mkdir -p /home/griduser && echo user=griduser', after: ['network'] }
  ]
}

const federation = await startEmbeddedFederation({ plants: 2, plant: { driver: { kind: 'qemu', poolSize: Number(values.pool), accel: 'auto', tbSizeMB: 64, diskMB: 64, overheadMB: 64 } } })
const client = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
try {
  await federation.ready()
  await client.start()
  // the first create on each plant builds its golden image: warm both up, outside the sample
  const warm = await Promise.all([client.create(spec, 'warm-a'), client.create(spec, 'warm-b')])
  for (const w of warm) await client.destroy(w.classad.vmid)
  const samples: number[] = []
  const plantCreate: number[] = []
  for (let i = 0; i < Number(values.creates); i++) {
    const started = performance.now()
    const { classad } = await client.create(spec, `bench-${i % 4}`)
    samples.push(performance.now() - started)
    plantCreate.push(classad.timings.cloningMs + classad.timings.configuringMs)
    await client.destroy(classad.vmid)
  }
  const all = summarize(samples)
  const plant = summarize(plantCreate)
  console.log(`# bench/create on ${hostname()} (${cpus().length} x ${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString()}, pool ${values.pool}`)
  console.log('measure | n | p50 ms | p99 ms | mean ms | min ms | max ms')
  console.log(`client request to classad | ${samples.length} | ${all.p50.toFixed(0)} | ${all.p99.toFixed(0)} | ${all.mean.toFixed(0)} | ${all.min.toFixed(0)} | ${all.max.toFixed(0)}`)
  console.log(`plant: clone + configure | ${plantCreate.length} | ${plant.p50.toFixed(0)} | ${plant.p99.toFixed(0)} | ${plant.mean.toFixed(0)} | ${plant.min.toFixed(0)} | ${plant.max.toFixed(0)}`)
  const file = join(packageRoot, 'docs', 'bench-create.svg')
  await writeFile(file, histogramSvg(samples, `vmplant create, ${samples.length} VMs of ${values.memory} MB, 2 guest actions (paper: 25-48 s mean)`))
  console.log(`histogram: ${file}`)
} finally {
  await client.stop()
  await federation.stop()
}
