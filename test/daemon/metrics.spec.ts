import test from 'ava'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient } from '../../src/cli/client.js'
import { waitForBidders } from '../../src/daemon/embedded.js'
import { validateNodeConfig, METRICS_LISTEN } from '../../src/daemon/config.js'
import { ConfigError, MetricsServerError } from '../../src/daemon/errors.js'
import { declineReason } from '../../src/daemon/metrics.js'
import { VmplantNode } from '../../src/daemon/vmplant-node.js'
import { dhtReady, nodeSet } from '../helpers/nodes.js'
import { SMALL_SPEC } from '../helpers/federation.js'
import { tempDir } from '../helpers/temp.js'
import { sample, scrape } from '../helpers/metrics.js'

const METRICS = { metrics: { listen: '127.0.0.1:0' } }

test('/metrics scraped around a create shows bids, the create and its latencies counted', async (t) => {
  const nodes = await nodeSet(t)
  let client: VmplantClient | undefined
  t.teardown(async () => { await client?.stop() })
  const shop = await nodes.start('shop', { roles: ['shop'], shop: { bidWindowMs: 5000 }, ...METRICS })
  const big = await nodes.start('big', { roles: ['plant'], bootstrap: [shop.multiaddrs[0]], ...METRICS })
  // too little memory for the spec: it declines, and says why
  const small = await nodes.start('small', { roles: ['plant'], bootstrap: [shop.multiaddrs[0]], plant: { memoryMB: 16 }, ...METRICS })
  await waitForBidders(shop, [big.peerId, small.peerId], AbortSignal.timeout(20_000))
  const before = { shop: await scrape(shop), big: await scrape(big), small: await scrape(small) }
  t.is(sample(before.shop, 'vmplant_creates_total{outcome="ok"}'), 0)

  client = new VmplantClient({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519') })
  await client.start()
  const result = await client.create(SMALL_SPEC, 'grid')
  t.is(result.classad.plant, big.peerId)
  const after = { shop: await scrape(shop), big: await scrape(big), small: await scrape(small) }

  const grew = (which: keyof typeof before, name: string): number => sample(after[which], name) - sample(before[which], name)
  t.is(grew('shop', 'vmplant_creates_total{outcome="ok"}'), 1)
  t.is(grew('shop', 'vmplant_creates_total{outcome="failed"}'), 0)
  t.is(grew('shop', 'vmplant_create_seconds_count'), 1)
  t.true(sample(after.shop, 'vmplant_create_seconds_sum') > 0, 'the create took its bidding window at least')
  t.is(grew('big', 'vmplant_bids_sent_total{answer="offer"}'), 1)
  t.is(grew('big', 'vmplant_bids_won_total'), 1)
  t.is(grew('big', 'vmplant_clone_seconds_count'), 1)
  t.is(grew('big', 'vmplant_configure_seconds_count'), 1)
  t.is(sample(after.big, 'vmplant_vms{state="running",line="sim"}'), 1)
  t.is(grew('small', 'vmplant_bids_sent_total{answer="decline"}'), 1)
  t.is(grew('small', 'vmplant_bids_declined_total{reason="capacity"}'), 1)
  t.is(grew('small', 'vmplant_bids_won_total'), 0)
  t.is(sample(after.big, 'vmplant_store_write_errors_total{op="commit"}'), 0)
  t.true(sample(after.shop, 'vmplant_gossip_peers') >= 2, 'the shop gossips with both plants')
  t.is(sample(after.shop, 'vmplant_gossip_peers_without_stream'), 0)
  // plants are DHT clients: the shop (a server) is in their routing tables, not they in its
  await dhtReady(big, AbortSignal.timeout(20_000))
  t.true(sample(await scrape(big), 'vmplant_dht_peers') >= 1)
  t.is(sample(after.big, 'vmplant_warehouse_images'), 1, 'the plant built the spec\'s golden image')
  t.true(sample(after.big, 'vmplant_warehouse_bytes') > 0, 'the image\'s artifacts have bytes')
  t.is(sample(after.big, 'vmplant_line_reserved_bytes{line="sim"}'), 0)

  await client.destroy(result.classad.vmid)
  t.false((await scrape(big)).has('vmplant_vms{state="running",line="sim"}'), 'the gauge is read from the store when scraped')
})

test('a bad metrics address is refused with the field named; metrics are off unless configured and loopback by default', (t) => {
  for (const listen of ['localhost', '127.0.0.1:99999', ':9464', '127.0.0.1:x']) {
    const error = t.throws(() => validateNodeConfig({ roles: ['shop'], dataDir: '/tmp/x', metrics: { listen } }), { instanceOf: ConfigError })
    t.regex(error?.message ?? '', /metrics\.listen: must be host:port/, listen)
  }
  t.regex(t.throws(() => validateNodeConfig({ roles: ['shop'], dataDir: '/tmp/x', metrics: { port: 1 } }))?.message ?? '', /metrics: unknown field\(s\) port/)
  t.is(validateNodeConfig({ roles: ['shop'], dataDir: '/tmp/x' }).metrics, undefined)
  t.is(validateNodeConfig({ roles: ['shop'], dataDir: '/tmp/x', metrics: {} }).metrics?.listen, METRICS_LISTEN)
  t.is(METRICS_LISTEN.split(':')[0], '127.0.0.1')
})

test('a node whose metrics address is taken fails to start, naming the field, and a stopped node frees its address', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const first = new VmplantNode(validateNodeConfig({ roles: ['shop'], dataDir: join(dir.path, 'first'), ...METRICS }), { name: 'first' })
  t.teardown(async () => { await first.stop() })
  await first.start()
  const address = first.metricsAddress as string
  t.regex(address, /^127\.0\.0\.1:\d+$/)
  const second = new VmplantNode(validateNodeConfig({ roles: ['shop'], dataDir: join(dir.path, 'second'), metrics: { listen: address } }), { name: 'second' })
  t.teardown(async () => { await second.stop() })
  const error = await t.throwsAsync(second.start(), { instanceOf: MetricsServerError })
  t.regex(error?.message ?? '', new RegExp(`metrics\\.listen: cannot listen on ${address}: .*EADDRINUSE`))
  t.is(second.metricsAddress, undefined)
  t.is((await fetch(`http://${address}/other`)).status, 404)
  await first.stop()
  t.is(first.metricsAddress, undefined)
  await t.throwsAsync(fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(5000) }), undefined, 'nothing listens there after the stop')
})

test('decline reasons fall into a few label values', (t) => {
  t.is(declineReason('needs 64 MB, 16 MB free'), 'capacity')
  t.is(declineReason('all 32 VM slots are taken'), 'capacity')
  t.is(declineReason('all 4 host-only networks are taken by other domains'), 'network')
  t.is(declineReason('something new'), 'other')
})
