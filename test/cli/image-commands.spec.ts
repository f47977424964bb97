import test from 'ava'
import { writeFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli } from '../helpers/cli.js'
import { loadNodeConfig } from '../../src/daemon/config.js'
import { VmplantNode } from '../../src/daemon/vmplant-node.js'
import { tempDir } from '../helpers/temp.js'
import { federationWithClient } from '../helpers/federation.js'
import { waitForBidders } from '../../src/daemon/embedded.js'

const run = runCli

// the paper's Figure 3: a workspace DAG whose first three actions are in a golden image
const workspace = (ids: string[]) => ({
  hardware: { memoryMB: 64, os: 'linux' },
  actions: [
    { id: ids[0], run: 'echo installing os' },
    { id: ids[1], run: 'echo vnc', after: [ids[0]] },
    { id: ids[2], run: 'echo webfm', after: [ids[0]] },
    { id: 'ip', run: 'echo ip=10.0.0.9', after: [ids[1], ids[2]] },
    { id: 'user', run: 'echo user=ana', after: ['ip'] },
    { id: 'mount', run: 'echo mounted', after: ['user'] }
  ]
})

test('publish a golden image, list, inspect, plan against it, then remove it', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const config = join(dir.path, 'plant.yaml')
  await writeFile(config, 'roles: [plant]\ndataDir: plant\nplant: { driver: { kind: sim } }\n')
  const golden = join(dir.path, 'golden.json')
  const base = workspace(['os', 'vnc', 'webfm'])
  await writeFile(golden, JSON.stringify({ hardware: base.hardware, actions: base.actions.slice(0, 3) }))
  const published = await run('image', 'publish', '--config', config, '--spec', golden)
  t.is(published.code, 0, published.err)
  const id = /published (\S+)/.exec(published.out)?.[1] as string
  t.truthy(id)

  const warehouse = join(dir.path, 'plant')
  const listed = await run('image', 'list', '--warehouse', warehouse)
  t.regex(listed.out, new RegExp(`${id}\\s+sim\\s+64 MB linux/x86_64\\s+3 action\\(s\\)`))
  const inspected = JSON.parse((await run('image', 'inspect', id, '--warehouse', warehouse)).out)
  t.is(inspected.descriptor.applied.length, 3)

  // the same scripts under other names: identity is the action's definition, not its id
  const request = join(dir.path, 'request.json')
  await writeFile(request, JSON.stringify(workspace(['debian', 'vncserver', 'filemanager'])))
  const plan = await run('plan', '--spec', request, '--warehouse', warehouse)
  t.is(plan.code, 0, plan.err)
  t.regex(plan.out, new RegExp(`image   ${id}`))
  t.regex(plan.out, /cloned  debian, (vncserver, filemanager|filemanager, vncserver)/)
  t.regex(plan.out, /run     ip, user, mount/)

  // a running plant answers the same over the network, and uses the image for a create
  const node = new VmplantNode(await loadNodeConfig(config), { name: 'plant' })
  await node.start()
  try {
    const remote = await run('plan', '--spec', request, '--plant', node.multiaddrs[0] as string, '--json')
    t.like(JSON.parse(remote.out), { chosen: { id, run: ['ip', 'user', 'mount'] } })
    const locked = await run('image', 'list', '--warehouse', warehouse)
    t.is(locked.code, 2)
    t.regex(locked.err, /in use by a running plant; ask it with --plant ADDR/)
  } finally {
    await node.stop()
  }

  const removed = await run('image', 'remove', id, '--warehouse', warehouse)
  t.is(removed.code, 0, removed.err)
  t.regex((await run('image', 'list', '--warehouse', warehouse)).out, /^no golden images$/)
  t.deepEqual(await readdir(join(warehouse, 'line')), [], 'the artifact file is gone too')
  const missing = await run('image', 'inspect', id, '--warehouse', warehouse)
  t.is(missing.code, 1)
  t.regex(missing.err, /no golden image/)
})

test('a create clones the warehouse image that saves the most actions and runs only the rest', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const config = join(dir.path, 'plant.yaml')
  await writeFile(config, 'roles: [plant]\ndataDir: plant\n')
  const base = workspace(['os', 'vnc', 'webfm'])
  await writeFile(join(dir.path, 'g.json'), JSON.stringify({ hardware: base.hardware, actions: base.actions.slice(0, 3) }))
  t.is((await run('image', 'publish', '--config', config, '--spec', join(dir.path, 'g.json'))).code, 0)
  const fixture = await federationWithClient({ plants: 0 })
  const plant = new VmplantNode({ ...(await loadNodeConfig(config)), bootstrap: [fixture.federation.shopAddr] }, { name: 'plant' })
  t.teardown(async () => { await plant.stop(); await fixture.stop() })
  await plant.start()
  await waitForBidders(fixture.federation.shop, [plant.peerId], AbortSignal.timeout(20_000))
  const { classad } = await fixture.client.create(workspace(['debian', 'vncserver', 'filemanager']), 'ws')
  t.is(classad.actions.cloned.length, 3)
  t.deepEqual(classad.actions.run, ['ip', 'user', 'mount'])
  t.deepEqual(Object.keys(classad.outputs).sort(), ['ip', 'mount', 'user'])
})
