import test from 'ava'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/temp.js'

const packageRoot = fileURLToPath(new URL('../../..', import.meta.url))

test('vmplant node --check-config says what a valid config sets up and exits 0 without starting a node', async (t) => {
  const { code, out } = await runCli('node', '--check-config', join(packageRoot, 'config', 'site-plant.yaml'))
  t.is(code, 0)
  t.regex(out, /site-plant\.yaml: valid; roles plant; listens on .+; data in .+; plant line \w+, cost model \w+; site [a-z0-9-]+/)
})

test('vmplant node --check-config names the file and the field of a bad config, and exits 2', async (t) => {
  const dir = await tempDir('vmplant-check-')
  t.teardown(dir.remove)
  const file = await dir.write('broker.yaml', 'roles: [broker]\ndataDir: /tmp/x\n')
  const { code, err } = await runCli('node', '--check-config', file)
  t.is(code, 2)
  t.true(err.includes(file), err)
  t.regex(err, /site/)
})

test('vmplant node without --config or --check-config is a usage error', async (t) => {
  const { code, err } = await runCli('node')
  t.is(code, 2)
  t.regex(err, /--config FILE/)
})
