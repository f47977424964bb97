/**
 * A spec's `network.address` on a plant that has no domain bridges (the sim line's modelled
 * networks): the create fails naming why, and no VM is left; a spec without it is made as before
 * and its classad has no NIC.
 */
import '../../src/polyfill.js'
import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient } from '../../src/cli/client.js'
import { startEmbeddedFederation } from '../../src/daemon/embedded.js'
import { tempDir } from '../helpers/temp.js'

test('a plant without domain bridges refuses a spec that sets network.address, naming why, and keeps no VM', async (t) => {
  const dir = await tempDir('vmplant-netspec-')
  const federation = await startEmbeddedFederation({ plants: 1, dataDir: dir.path })
  const client = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
  t.teardown(async () => {
    await client.stop()
    await federation.stop()
    await dir.remove()
  })
  await federation.ready()
  await client.start()
  const hardware = { memoryMB: 64, os: 'linux' }
  const error = await t.throwsAsync(client.create({ hardware, network: { address: '10.9.0.5/24', gateway: '10.9.0.1' }, actions: [] }, 'lab'))
  t.regex(error?.message ?? '', /network\.address 10\.9\.0\.5\/24, but this plant gives its VMs no NIC on a domain network \(its networks are modelled only\)/)
  t.deepEqual((await client.list()).vms, [], 'no VM is recorded')
  const made = await client.create({ hardware, actions: [] }, 'lab')
  t.is(made.classad.nic, undefined, 'a VM without a NIC on a domain bridge has no nic in its classad')
})
