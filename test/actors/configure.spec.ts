import test from 'ava'
import { federationWithClient, type Fixture } from '../helpers/federation.js'

let fixture: Fixture
test.before(async () => { fixture = await federationWithClient({ plants: 1 }) })
test.after.always(async () => { await fixture?.stop() })

const hardware = { memoryMB: 64, os: 'linux' }

test('exports become classad attributes', async (t) => {
  const { classad } = await fixture.client.create({ hardware, actions: [{ id: 'net', run: 'echo ip_address=10.0.0.7\necho noise=1', exports: ['ip_address'] }] }, 'grid')
  t.deepEqual(classad.attributes, { ip_address: '10.0.0.7' })
  await fixture.client.destroy(classad.vmid)
})

test('a failing action with no error sub-graph destroys the VM and names the action, its exit code and output', async (t) => {
  const error = await t.throwsAsync(fixture.client.create({ hardware, actions: [{ id: 'ok', run: 'echo fine' }, { id: 'broken', run: 'echo disk full >&2\nexit 3', after: ['ok'] }] }, 'grid'))
  t.regex(error.message, /action "broken" exited with code 3; output ends: disk full/)
  const list = await fixture.client.list()
  t.deepEqual(list.vms.filter((vm) => vm.domain === 'grid' && vm.actions.run.includes('broken')), [], 'no half-made VM is recorded')
})

test('a failing action whose error sub-graph continues: the VM is created and the classad notes the recovered error', async (t) => {
  const { classad } = await fixture.client.create({
    hardware,
    actions: [
      { id: 'mount', run: 'exit 32', onError: { actions: [{ id: 'fallback', run: 'echo using local disk' }], then: 'continue' } },
      { id: 'after', run: 'echo done', after: ['mount'] }
    ]
  }, 'grid')
  t.deepEqual(classad.recovered, [{ action: 'mount', exitCode: 32, timedOut: false, handledBy: ['fallback'] }])
  t.is(classad.outputs['mount/fallback']?.stdout, 'using local disk\n')
  t.is(classad.outputs.after?.stdout, 'done\n')
  await fixture.client.destroy(classad.vmid)
})

test('an error sub-graph that aborts fails the create after running', async (t) => {
  const error = await t.throwsAsync(fixture.client.create({
    hardware,
    actions: [{ id: 'mount', run: 'exit 1', onError: { actions: [{ id: 'cleanup', run: 'echo cleaned' }], then: 'abort' } }]
  }, 'grid'))
  t.regex(error.message, /action "mount" exited with code 1 \(its error sub-graph ran and asks to abort\)/)
})

test('independent branches run concurrently when the spec says so, and host actions reach the line', async (t) => {
  const { classad } = await fixture.client.create({
    hardware,
    concurrent: true,
    actions: [
      { id: 'a', run: 'echo a' },
      { id: 'b', run: 'echo b' },
      { id: 'nic', type: 'host', host: { attach: 'nic', network: 'lab' } },
      { id: 'c', run: 'echo c', after: ['a', 'b', 'nic'] }
    ]
  }, 'grid')
  t.deepEqual([...classad.actions.run].sort(), ['a', 'b', 'c', 'nic'])
  t.is(classad.actions.run[3], 'c')
  await fixture.client.destroy(classad.vmid)
})
