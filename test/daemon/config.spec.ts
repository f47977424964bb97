import test from 'ava'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadNodeConfig, validateNodeConfig } from '../../src/daemon/config.js'
import { ConfigError } from '../../src/daemon/errors.js'
import { tempDir } from '../helpers/temp.js'
import { packageRoot } from '../../src/paths.js'

test('a minimal config gets the paper\'s defaults', (t) => {
  const config = validateNodeConfig({ roles: ['plant'], dataDir: '/tmp/x' })
  t.deepEqual(config.listen, ['/ip4/127.0.0.1/tcp/0'])
  t.like(config.plant.cost, { model: 'paper', computeCost: 4, networkCost: 50, maxNetworks: 4, maxVms: 32 })
  t.is(config.plant.driver.kind, 'sim')
  t.is(config.shop.bidWindowMs, 2000)
})

test('config errors name the file and the field', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const cases: Array<[string, RegExp]> = [
    ['roles: [shop]\ndataDir: x\nlisten: [not-an-address]\n', /listen\[0\]: is not a multiaddr/],
    ['roles: [chef]\ndataDir: x\n', /roles\[0\]: /],
    ['roles: [plant]\ndataDir: x\nplant: { cost: { model: cheapest } }\n', /plant\.cost\.model: /],
    ['roles: [plant]\ndataDir: x\ncolour: red\n', /unknown field\(s\) colour/],
    ['roles: [broker]\ndataDir: x\n', /site: a broker needs the site it serves/],
    ['roles: [shop]\n', /dataDir: /],
    ['roles: [shop\n', /is not valid YAML/]
  ]
  for (const [text, message] of cases) {
    const file = join(dir.path, 'node.yaml')
    await writeFile(file, text)
    const error = await t.throwsAsync(loadNodeConfig(file), { instanceOf: ConfigError })
    t.regex(error.message, message, text)
    t.true(error.message.includes(file))
  }
})

test('the example configs in config/ are valid', async (t) => {
  for (const name of ['shop.yaml', 'plant.yaml', 'broker.yaml', 'site-plant.yaml']) {
    const config = await loadNodeConfig(join(packageRoot, 'config', name))
    t.true(config.roles.length > 0, name)
  }
})
