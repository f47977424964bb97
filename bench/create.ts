/**
 * bench/create: the paper's experiment (section 4.2) in small: sequential creates through a shop
 * to two QEMU plants, each VM configured by two guest actions (network set-up and a user
 * account), from request to classad. Each VM is destroyed after its create so that the run fits
 * the plants' 32-VM limit and the host's memory. Writes a histogram to docs/bench-create.svg.
 * Usage: node dist/bench/create.js [--creates 128] [--memory 128] [--pool 0] [--driver qemu|sim]
 * With --driver sim the plants run the sim line (no guest, no wait): what is left is the path of a
 * create through the shop and the plant, its store's commit included (issue 19, durable commits).
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
    driver: { type: 'string', default: 'qemu' },
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

if (values.driver !== 'qemu' && values.driver !== 'sim') {
  console.error(`--driver is qemu or sim, not "${values.driver}"`)
  process.exit(2)
}
const driver = values.driver === 'sim'
  ? { kind: 'sim' as const, cloneMs: 0, resumeMs: 0, actionMs: 0, goldenMs: 0 }
  : { kind: 'qemu' as const, poolSize: Number(values.pool), accel: 'auto' as const, tbSizeMB: 64, diskMB: 64, overheadMB: 64 }
const federation = await startEmbeddedFederation({ plants: 2, plant: { driver } })
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
  console.log(`# bench/create on ${hostname()} (${cpus().length} x ${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString()}, driver ${values.driver}, pool ${values.pool}`)
  console.log('measure | n | p50 ms | p99 ms | mean ms | min ms | max ms')
  // a sim create takes milliseconds: a tenth of one is worth showing
  const ms = (v: number): string => v.toFixed(values.driver === 'sim' ? 1 : 0)
  console.log(`client request to classad | ${samples.length} | ${ms(all.p50)} | ${ms(all.p99)} | ${ms(all.mean)} | ${ms(all.min)} | ${ms(all.max)}`)
  console.log(`plant: clone + configure | ${plantCreate.length} | ${ms(plant.p50)} | ${ms(plant.p99)} | ${ms(plant.mean)} | ${ms(plant.min)} | ${ms(plant.max)}`)
  // the histogram is the QEMU experiment's; a sim run leaves it alone
  if (values.driver === 'qemu') {
    const file = join(packageRoot, 'docs', 'bench-create.svg')
    await writeFile(file, histogramSvg(samples, `vmplant create, ${samples.length} VMs of ${values.memory} MB, 2 guest actions (paper: 25-48 s mean)`))
    console.log(`histogram: ${file}`)
  }
} finally {
  await client.stop()
  await federation.stop()
}
