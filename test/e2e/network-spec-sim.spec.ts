/**
 * A spec's `network.address` on a plant that has no domain bridges (the sim line's modelled
 * networks): the create fails naming why, and no VM is left; a spec without it is made as before
 * and its classad has no NIC.
 */
import test, { type ExecutionContext } from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient } from '../../src/cli/client.js'
import { startEmbeddedFederation } from '../../src/daemon/embedded.js'
import { tempDir } from '../helpers/temp.js'

/** one sim plant and a shop in a folder of the test's, and a started client; all removed when the test ends */
async function simFederation (t: ExecutionContext, shop: { orderTimeoutMs?: number } = {}): Promise<VmplantClient> {
  const dir = await tempDir('vmplant-netspec-')
  const federation = await startEmbeddedFederation({ plants: 1, dataDir: dir.path, shop })
  const client = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
  t.teardown(async () => {
    await client.stop()
    await federation.stop()
    await dir.remove()
  })
  await federation.ready()
  await client.start()
  return client
}

test('a plant without domain bridges refuses a spec that sets network.address, naming why, and keeps no VM', async (t) => {
  const client = await simFederation(t)
  const hardware = { memoryMB: 64, os: 'linux' }
  const error = await t.throwsAsync(client.create({ hardware, network: { address: '10.9.0.5/24', gateway: '10.9.0.1' }, actions: [] }, 'lab'))
  t.regex(error?.message ?? '', /network\.address 10\.9\.0\.5\/24, but this plant gives its VMs no NIC on a domain network \(its networks are modelled only\)/)
  t.deepEqual((await client.list()).vms, [], 'no VM is recorded')
  const made = await client.create({ hardware, actions: [] }, 'lab')
  t.is(made.classad.nic, undefined, 'a VM without a NIC on a domain bridge has no nic in its classad')
})

test('a shop refuses a DHCP lease wait that is not shorter than its plants\' time for the whole VM, naming both, before any plant is asked', async (t) => {
  const client = await simFederation(t, { orderTimeoutMs: 20_000 })
  const error = await t.throwsAsync(client.create({ hardware: { memoryMB: 64, os: 'linux' }, network: { dhcp: true, leaseTimeoutMs: 30_000 }, actions: [] }, 'lab'))
  t.regex(error?.message ?? '', /^network\.leaseTimeoutMs: 30000 ms is not shorter than the 18000 ms a plant has for the whole VM under this shop's orderTimeoutMs of 20000 ms/)
  t.is((error as { code?: string }).code, 'InvalidSpecError')
  t.deepEqual((await client.list()).vms, [], 'no VM is recorded')
})
