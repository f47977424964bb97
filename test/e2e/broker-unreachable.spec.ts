import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { waitForBidders } from '../../src/daemon/embedded.js'
import { PROTOCOLS } from '../../src/net/protocols.js'
import { VmplantClient } from '../../src/cli/client.js'
import type { LoadReport } from '../../src/interface/index.js'
import { eventually } from '../helpers/processes.js'
import { nodeSet } from '../helpers/nodes.js'

const SPEC = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }

test('a broker whose chosen plant cannot take its confirmation asks the next plant at once, not after the attempt\'s share of the window', async (t) => {
  const nodes = await nodeSet(t)
  const start = nodes.start
  const reports = new Map<string, LoadReport>()
  // a long window: the broker has 60% of it, 18 s, and gives each attempt with two plants half, 9 s
  const windowMs = 30_000
  const shop = await start('shop', { roles: ['shop'], shop: { bidWindowMs: windowMs } })
  const broker = await start('broker', { roles: ['broker'], site: 'east', bootstrap: [shop.multiaddrs[0]] }, (_, m) => {
    if (m.type === 'load.report') { const { report } = m as unknown as { report: LoadReport }; reports.set(report.plant, report) }
  })
  // east-0 is the cheaper: the broker chooses it first
  const cheap = await start('east-0', { roles: ['plant'], site: 'east', bootstrap: [broker.multiaddrs[0]], plant: { cost: { networkCost: 30 } } })
  const dear = await start('east-1', { roles: ['plant'], site: 'east', bootstrap: [broker.multiaddrs[0]], plant: { cost: { networkCost: 40 } } })
  await waitForBidders(shop, [broker.peerId], AbortSignal.timeout(20_000))
  await eventually(async () => { if (!reports.has(cheap.peerId) || !reports.has(dear.peerId)) throw new Error('the broker has not heard from both plants') }, 20_000, 50)
  // still in the site and reporting its load, but no longer takes a call on a stream
  await cheap.libp2p!.unhandle(PROTOCOLS.call)

  const client = new VmplantClient({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519') })
  await client.start()
  t.teardown(async () => { await client.stop() })
  const result = await client.create(SPEC, 'grid')
  t.is(result.classad.plant, dear.peerId)
  t.regex(result.bidding.offers[0]?.reason ?? '', /best of \d at site east, by load reports/)
  const attemptMs = windowMs * 0.6 / 2
  t.true(result.classad.timings.biddingMs < attemptMs, `the round took ${result.classad.timings.biddingMs} ms; an attempt's share is ${attemptMs} ms`)
  await client.destroy(result.classad.vmid)
})
