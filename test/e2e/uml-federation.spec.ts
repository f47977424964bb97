import test, { type TestFn } from 'ava'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient } from '../../src/cli/client.js'
import { startEmbeddedFederation } from '../../src/daemon/embedded.js'
import { lineUnavailable } from '../../src/hypervisor/available.js'
import { pidsMentioning } from '../hypervisor/qemu-helpers.js'
import { killMentioning } from '../helpers/hypervisors.js'
import { tempDir } from '../helpers/temp.js'

const missing = await lineUnavailable('uml')
const utest: TestFn['serial'] = missing === undefined || process.env.CI !== undefined ? test.serial : test.serial.skip as unknown as TestFn['serial']
if (missing !== undefined && process.env.CI === undefined) console.warn(`skipping the UML federation test: ${missing}`)

const spec = {
  hardware: { memoryMB: 64, os: 'linux' },
  actions: [
    { id: 'network', run: 'echo ip_address=10.30.0.5', exports: ['ip_address'] },
    { id: 'user', run: 'echo "griduser:x:1000:1000::/home/griduser:/bin/sh" >> /etc/passwd && grep -c griduser /etc/passwd', after: ['network'] }
  ]
}

utest('through the federation, a UML VM runs two actions in its guest, shows as running, and destroy leaves nothing behind', async (t) => {
  const dir = await tempDir('vmplant-uf-')
  const federation = await startEmbeddedFederation({ plants: 1, dataDir: dir.path, plant: { driver: { kind: 'uml' } } })
  const client = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
  t.teardown(async () => {
    await client.stop()
    await federation.stop()
    await killMentioning(dir.path)
    await dir.remove()
  })
  await federation.ready()
  await client.start()
  const { classad } = await client.create(spec, 'lab')
  t.is(classad.line, 'uml')
  t.is(classad.attributes.ip_address, '10.30.0.5')
  t.is(classad.outputs.user?.stdout.trim(), '1')
  t.is((await client.query(classad.vmid)).state, 'running')
  t.true(pidsMentioning(dir.path).length > 0, 'linux.uml runs for the VM')

  await client.destroy(classad.vmid)
  t.deepEqual(pidsMentioning(dir.path), [], 'no linux.uml process is left')
  const vms = join(dir.path, 'plant-0', 'line', 'vms')
  t.deepEqual(await readdir(vms), [], 'no VM folder is left')
})
