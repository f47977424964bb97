/**
 * Domain networks through the federation on the UML line: the plant puts each VM's eth0 on its
 * domain's bridge, so a VM of domain A reaches another VM of A, a VM of domain B does not (same
 * subnet: only the bridges keep them apart), and the bridges go with the domains' last VMs.
 */
import test, { type TestFn } from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient } from '../../src/cli/client.js'
import { startEmbeddedFederation } from '../../src/daemon/embedded.js'
import { lineUnavailable } from '../../src/hypervisor/available.js'
import { masterOf } from '../../src/hypervisor/net/index.js'
import { killMentioning } from '../helpers/hypervisors.js'
import { linksStartingWith, sweepStaleLinks, testLinkPrefix } from '../helpers/links.js'
import { tempDir } from '../helpers/temp.js'

const missing = process.getuid?.() !== 0 ? 'domain bridges need root' : await lineUnavailable('uml')
const utest: TestFn['serial'] = missing === undefined || process.env.CI !== undefined ? test.serial : test.serial.skip as unknown as TestFn['serial']
if (missing !== undefined && process.env.CI === undefined) console.warn(`skipping the UML domain network test: ${missing}`)

/** a VM that takes `address` on its eth0 and tries to ping `target` (when given) */
function spec (address: string, target?: string) {
  const actions: Array<Record<string, unknown>> = [{ id: 'address', run: `ip addr add ${address}/24 dev eth0 && ip link set eth0 up && echo ip_address=${address}`, exports: ['ip_address'] }]
  if (target !== undefined) actions.push({ id: 'reach', run: `if ping -c 2 -W 2 ${target} >/dev/null 2>&1; then echo reach=yes; else echo reach=no; fi`, exports: ['reach'], after: ['address'], timeoutMs: 20_000 })
  return { hardware: { memoryMB: 48, os: 'linux' }, actions }
}

utest('a UML VM of domain A is on A\'s bridge and reaches A\'s other VM; B\'s VM, on B\'s bridge, cannot', async (t) => {
  await sweepStaleLinks()
  const prefix = testLinkPrefix()
  const dir = await tempDir('vmplant-ud-')
  const federation = await startEmbeddedFederation({ plants: 1, dataDir: dir.path, plant: { driver: { kind: 'uml' }, networkPrefix: prefix } })
  const client = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
  let stopped = false
  t.teardown(async () => {
    await client.stop()
    if (!stopped) await federation.stop()
    await killMentioning(dir.path)
    await dir.remove()
  })
  await federation.ready()
  await client.start()

  const a1 = (await client.create(spec('10.98.0.1'), 'dom-a')).classad
  t.like(a1.network, { kind: 'bridge', name: `${prefix}b0` })
  const a2 = (await client.create(spec('10.98.0.2', '10.98.0.1'), 'dom-a')).classad
  t.is(a2.network.name, a1.network.name, 'A\'s VMs share A\'s bridge')
  t.is(a2.attributes.reach, 'yes', 'A2 reaches A1')
  const b1 = (await client.create(spec('10.98.0.3', '10.98.0.1'), 'dom-b')).classad
  t.like(b1.network, { kind: 'bridge', name: `${prefix}b1` })
  t.is(b1.attributes.reach, 'no', 'B1 cannot reach A1')
  const taps = (await linksStartingWith(`${prefix}t`)).sort()
  t.is(taps.length, 3, 'one tap per VM')
  const masters = await Promise.all(taps.map(async (tap) => await masterOf(tap)))
  t.deepEqual(masters.sort(), [`${prefix}b0`, `${prefix}b0`, `${prefix}b1`])

  for (const ad of [a1, a2, b1]) await client.destroy(ad.vmid)
  t.deepEqual(await linksStartingWith(prefix), [], 'no bridge or tap is left')

  // a federation stopped with a VM still running (tests, `stop({ destroyVms })`) leaves no link either
  const c1 = (await client.create(spec('10.98.0.4'), 'dom-c')).classad
  t.is(c1.network.kind, 'bridge')
  t.is((await linksStartingWith(prefix)).length, 2, 'a bridge and a tap')
  await client.stop()
  stopped = true
  await federation.stop()
  t.deepEqual(await linksStartingWith(prefix), [], 'stopping the plant with its VMs removed its bridge and taps')
})
