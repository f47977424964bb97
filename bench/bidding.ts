/**
 * bench/bidding: latency of a create (bid round plus sim production) with N plants on loopback.
 * The shop and the client run in this process, the plants in one other process (this machine
 * has 2 cores). Usage: node dist/bench/bidding.js [--plants 5,20,50] [--creates 100] [--settle 3000]
 */
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { hostname, cpus, tmpdir } from 'node:os'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantNode } from '../src/daemon/vmplant-node.js'
import { validateNodeConfig } from '../src/daemon/config.js'
import { waitForBidders } from '../src/daemon/embedded.js'
import { VmplantClient } from '../src/cli/client.js'
import { summarize, formatRow } from './stats.js'

const { values } = parseArgs({ options: { plants: { type: 'string', default: '5,20,50' }, creates: { type: 'string', default: '100' }, settle: { type: 'string', default: '3000' } } })
const spec = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'net', run: 'echo ip=10.0.0.2' }, { id: 'user', run: 'echo user=grid', after: ['net'] }] }
const worker = fileURLToPath(new URL('./plants-worker.js', import.meta.url))

console.log(`# bench/bidding on ${hostname()} (${cpus().length} x ${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString()}`)
console.log('plants | creates | p50 ms | p99 ms | mean ms | bids/round')
for (const plants of values.plants.split(',').map(Number)) {
  const dir = await mkdtemp(join(tmpdir(), 'vmplant-bench-'))
  const shop = new VmplantNode(validateNodeConfig({ roles: ['shop'], dataDir: join(dir, 'shop'), shop: { bidWindowMs: 10_000 } }), { name: 'shop' })
  await shop.start()
  const child = spawn(process.execPath, [worker, shop.multiaddrs[0] as string, String(plants), dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  const client = new VmplantClient({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519') })
  try {
    await once(child.stdout!, 'data')
    await waitForBidders(shop, plants, AbortSignal.timeout(60_000))
    await client.start()
    await new Promise((resolve) => setTimeout(resolve, Number(values.settle)))
    const samples: number[] = []
    let bids = 0
    for (let i = 0; i < Number(values.creates); i++) {
      const started = performance.now()
      const result = await client.create(spec, `bench-${i % 8}`)
      samples.push(performance.now() - started)
      bids += result.bidding.answered
    }
    console.log(formatRow([plants, samples.length], summarize(samples), (bids / samples.length).toFixed(1)))
  } finally {
    await client.stop()
    child.kill('SIGTERM')
    await once(child, 'exit')
    await shop.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
