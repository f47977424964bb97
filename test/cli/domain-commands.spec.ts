import test from 'ava'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli, vmplantProcess } from '../helpers/cli.js'
import { tempDir } from '../helpers/temp.js'
import { startEmbeddedFederation, type EmbeddedFederation } from '../../src/daemon/embedded.js'
import { signDomainCredential } from '../../src/net/auth.js'
import { loadOrCreateKey } from '../../src/net/keys.js'
import { domainFolderOf } from '../../src/cli/identity.js'
import { packageRoot } from '../../src/paths.js'

const vmplant = vmplantProcess

let federation: EmbeddedFederation
let dir: Awaited<ReturnType<typeof tempDir>>
test.before(async () => {
  federation = await startEmbeddedFederation({ plants: 1 })
  await federation.ready()
  dir = await tempDir()
})
test.after.always(async () => {
  await federation?.stop()
  await dir?.remove()
})

const spec = join(packageRoot, 'config', 'demo-spec.yaml')
/** each client's key in a folder of its own, as on two machines */
const keyOf = (who: string): string => join(dir.path, who, 'client.key')

test.serial('domain create makes a 0600 key beside the client key, prints the public id and refuses to overwrite', async (t) => {
  const made = await vmplant('domain', 'create', 'lab', '--key', keyOf('alice'))
  t.is(made.code, 0, made.err)
  t.regex(made.out, /^12D3Koo[1-9A-HJ-NP-Za-km-z]+$/)
  const listed = JSON.parse((await vmplant('domain', 'list', '--key', keyOf('alice'), '--json')).out)
  t.like(listed.domains, [{ name: 'lab', owned: made.out }])
  t.is(listed.folder, domainFolderOf(keyOf('alice'), listed.client))
  t.is((await stat(join(listed.folder, 'lab.key'))).mode & 0o777, 0o600)

  const again = await vmplant('domain', 'create', 'lab', '--key', keyOf('alice'))
  t.is(again.code, 2)
  t.regex(again.err, /domain lab already exists/)
  t.is(JSON.parse((await vmplant('domain', 'list', '--key', keyOf('alice'), '--json')).out).domains[0].owned, made.out, 'the key is kept')
})

test.serial('a granted client reaches the domain\'s VMs; without the credential, with another client\'s, or an expired one, it is refused', async (t) => {
  const shop = federation.shopAddr
  const bob = JSON.parse((await vmplant('domain', 'list', '--key', keyOf('bob'), '--json')).out).client as string
  const labId = JSON.parse((await vmplant('domain', 'list', '--key', keyOf('alice'), '--json')).out).domains[0].owned as string

  const created = await runCli('create', '--shop', shop, '--spec', spec, '--domain', 'lab', '--key', keyOf('alice'), '--json')
  t.is(created.code, 0, created.err)
  const { classad } = JSON.parse(created.out)
  t.is(classad.domainKey, labId)

  const without = await runCli('query', '--shop', shop, '--key', keyOf('bob'), classad.vmid)
  t.is(without.code, 1)
  t.regex(without.err, /domain credential refused \(missing\)/)

  const file = join(dir.path, 'bob-lab.json')
  const granted = await vmplant('domain', 'grant', 'lab', '--client', bob, '--expires', '2h', '--out', file, '--key', keyOf('alice'))
  t.is(granted.code, 0, granted.err)
  t.regex(granted.err, /valid until/)
  t.is((await stat(file)).mode & 0o777, 0o600)

  const stolen = await runCli('query', '--shop', shop, '--key', keyOf('alice'), '--credential', file, classad.vmid)
  t.is(stolen.code, 1)
  t.regex(stolen.err, /\(other-client\)/)

  const withFile = await runCli('query', '--shop', shop, '--key', keyOf('bob'), '--credential', file, classad.vmid)
  t.is(withFile.code, 0, withFile.err)
  t.is(JSON.parse(withFile.out).vmid, classad.vmid)

  // once imported, the credential is found in bob's domain folder by itself
  const imported = await vmplant('domain', 'import', file, '--key', keyOf('bob'))
  t.is(imported.code, 0, imported.err)
  t.regex((await runCli('list', '--shop', shop, '--key', keyOf('bob'))).out, new RegExp(`${classad.vmid}\\s+running.*lab`))
  const joined = await runCli('create', '--shop', shop, '--spec', spec, '--domain', 'lab', '--key', keyOf('bob'), '--json')
  t.is(joined.code, 0, joined.err)
  const second = JSON.parse(joined.out).classad
  t.is(second.domainKey, labId)
  t.deepEqual(second.network, classad.network, 'both VMs are on the lab\'s network')
  t.regex((await vmplant('domain', 'list', '--key', keyOf('bob'))).out, new RegExp(`lab  ${labId}  granted by`))

  // an expired credential of the lab's own key
  const labKey = await loadOrCreateKey(join(domainFolderOf(keyOf('alice'), JSON.parse((await vmplant('domain', 'list', '--key', keyOf('alice'), '--json')).out).client), 'lab.key'))
  const expired = join(dir.path, 'expired.json')
  await writeFile(expired, JSON.stringify(await signDomainCredential(labKey, { domain: 'lab', client: bob, issuedAt: Date.now() - 7_200_000, expiresAt: Date.now() - 3_600_000 })))
  const late = await runCli('destroy', '--shop', shop, '--key', keyOf('bob'), '--credential', expired, second.vmid)
  t.is(late.code, 1)
  t.regex(late.err, /\(expired\)/)

  t.is((await runCli('destroy', '--shop', shop, '--key', keyOf('bob'), '--domain', 'lab', second.vmid)).code, 0)
  t.is((await runCli('destroy', '--shop', shop, '--key', keyOf('alice'), classad.vmid)).code, 0)
})

test.serial('a create without a domain uses the client\'s own default domain, made on first use', async (t) => {
  const created = await runCli('create', '--shop', federation.shopAddr, '--spec', spec, '--key', keyOf('carol'), '--json')
  t.is(created.code, 0, created.err)
  t.regex(created.err, /made domain default \(12D3Koo\w+\) on first use/)
  const { classad } = JSON.parse(created.out)
  t.is(classad.domain, 'default')
  const listed = JSON.parse((await vmplant('domain', 'list', '--key', keyOf('carol'), '--json')).out)
  t.is(listed.domains[0].owned, classad.domainKey)
  t.is((await runCli('destroy', '--shop', federation.shopAddr, '--key', keyOf('carol'), classad.vmid)).code, 0)
})

test('bad domain input exits with 2 and names the problem', async (t) => {
  const badName = await vmplant('domain', 'create', 'Not_A_Name', '--key', keyOf('dave'))
  t.is(badName.code, 2)
  t.regex(badName.err, /domain "Not_A_Name" must be lower-case/)
  const badClient = await vmplant('domain', 'grant', 'lab', '--client', 'nobody', '--key', keyOf('dave'))
  t.is(badClient.code, 2)
  t.regex(badClient.err, /--client "nobody" is not a client peer id/)
  const me = JSON.parse((await vmplant('domain', 'list', '--key', keyOf('dave'), '--json')).out).client as string
  const badDuration = await vmplant('domain', 'grant', 'lab', '--client', me, '--expires', '5x', '--key', keyOf('dave'))
  t.is(badDuration.code, 2)
  t.regex(badDuration.err, /duration "5x"/)
  const noKey = await vmplant('domain', 'grant', 'lab', '--client', me, '--key', keyOf('dave'))
  t.is(noKey.code, 2)
  t.regex(noKey.err, /holds no key for domain lab/)
  const unknownDomain = await runCli('query', '--shop', federation.shopAddr, '--key', keyOf('dave'), '--domain', 'nosuch', `vm-0123456789abcdef.${federation.plants[0]!.peerId}`)
  t.is(unknownDomain.code, 2)
  t.regex(unknownDomain.err, /holds no credential for domain nosuch/)
  const garbage = join(dir.path, 'garbage.json')
  await writeFile(garbage, '{"type":"domain.credential"}')
  const notCredential = await vmplant('domain', 'import', garbage, '--key', keyOf('dave'))
  t.is(notCredential.code, 2)
  t.regex(notCredential.err, /is not a domain credential: domain/)
})

test('domain commands have --help that lists their options', async (t) => {
  const top = await runCli('domain', '--help')
  t.is(top.code, 0)
  for (const command of ['create', 'grant', 'import', 'list']) t.regex(top.out, new RegExp(`\\n  ${command}\\b`))
  t.regex((await runCli('domain', 'grant', '--help')).out, /--client <peerid>[\s\S]*--expires <duration>[\s\S]*--out <file>/)
  for (const command of ['create', 'query', 'destroy', 'list']) t.regex((await runCli(command, '--help')).out, /--credential <file>/)
})
