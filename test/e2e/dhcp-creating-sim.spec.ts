/**
 * What DHCP through the tunnel stands on, without root (the sim line, modelled networks): a plant
 * lists a VM it is still making as `creating`, to its domain's clients only, so that a tunnel
 * proxy follows the plant before the VM asks for its lease; once made it is `running`. A plant
 * with no domain bridges refuses a spec that asks for DHCP, naming why, and keeps no VM.
 */
import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient } from '../../src/cli/client.js'
import { startEmbeddedFederation } from '../../src/daemon/embedded.js'
import { tempDir } from '../helpers/temp.js'

test('a VM being made is listed as creating, to its domain\'s clients only, then as running; DHCP on a plant without domain bridges is refused naming why', async (t) => {
  const dir = await tempDir('vmplant-dhcp-sim-')
  const federation = await startEmbeddedFederation({ plants: 1, dataDir: dir.path })
  const owner = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
  const other = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
  t.teardown(async () => {
    await owner.stop()
    await other.stop()
    await federation.stop()
    await dir.remove()
  })
  await federation.ready()
  await Promise.all([owner.start(), other.start()])
  const hardware = { memoryMB: 64, os: 'linux' }

  const error = await t.throwsAsync(owner.create({ hardware, network: { dhcp: true }, actions: [] }, 'lab'))
  t.regex(error?.message ?? '', /the spec asks for DHCP, but this plant gives its VMs no NIC on a domain network \(its networks are modelled only\)/)
  t.deepEqual((await owner.list()).vms, [], 'no VM is recorded, nor listed as being made')

  // the action takes 5 s on the line: long enough to be seen while it runs
  const creating = owner.create({ hardware, actions: [{ id: 'slow', run: 'sleep 5' }] }, 'lab')
  const seen = await new Promise<Awaited<ReturnType<VmplantClient['list']>>['vms']>((resolve, reject) => {
    const deadline = Date.now() + 30_000
    const poll = (): void => {
      owner.list().then((list) => {
        if (list.vms.some((vm) => vm.state === 'creating')) resolve(list.vms)
        else if (Date.now() > deadline) reject(new Error('the VM was never listed as creating'))
        else setTimeout(poll, 100)
      }, reject)
    }
    creating.then(() => { reject(new Error('the create ended before the VM was listed as creating')) }, () => {})
    poll()
  })
  t.is(seen.length, 1)
  t.like(seen[0], { state: 'creating', domain: 'lab', memoryMB: 64, goldenImage: '' })
  t.deepEqual((await other.list()).vms, [], 'a client of another domain does not see it')
  const made = await creating
  t.is(made.classad.vmid, seen[0]?.vmid as string, 'the VM listed as creating is the one made')
  t.like((await owner.list()).vms, [{ vmid: made.classad.vmid, state: 'running' }])
})
