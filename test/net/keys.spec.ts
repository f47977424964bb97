import test from 'ava'
import { readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateKey } from '../../src/net/keys.js'
import { KeyFileError } from '../../src/net/errors.js'
import { tempDir } from '../helpers/temp.js'

test('a key made on first use is kept (mode 0600) and loaded again; callers racing to make it get the one written', async (t) => {
  const dir = await tempDir('vmplant-keys-')
  t.teardown(dir.remove)
  const file = join(dir.path, 'node', 'node.key')
  const keys = await Promise.all(Array.from({ length: 6 }, async () => await loadOrCreateKey(file)))
  const ids = new Set(keys.map((k) => peerIdFromPrivateKey(k).toString()))
  t.is(ids.size, 1)
  t.true(ids.has(peerIdFromPrivateKey(await loadOrCreateKey(file)).toString()))
  t.is((await stat(file)).mode & 0o777, 0o600)
  t.deepEqual(await readdir(join(dir.path, 'node')), ['node.key'])
})

test('a key file that holds no key is an error naming it, never replaced', async (t) => {
  const dir = await tempDir('vmplant-keys-')
  t.teardown(dir.remove)
  const file = join(dir.path, 'node.key')
  await writeFile(file, 'not a key')
  const err = await t.throwsAsync(loadOrCreateKey(file), { instanceOf: KeyFileError })
  t.true(err?.message.includes(file))
})
