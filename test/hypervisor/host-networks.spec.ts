import test from 'ava'
import { rootTest } from '../helpers/root.js'
import { hostNetworks, createTap, deleteTap, masterOf, prefixFor, HostNetworkError, InvalidHostNetworksInitError } from '../../src/hypervisor/net/index.js'
import { linkExists, linksStartingWith, sweepStaleLinks, testLinkPrefix } from '../helpers/links.js'


test('init validation names the offending field', (t) => {
  t.is(t.throws(() => hostNetworks({ prefix: 'Bad' }), { instanceOf: InvalidHostNetworksInitError })?.path, 'prefix')
  t.is(t.throws(() => hostNetworks({ prefix: 'toolongprefix' }), { instanceOf: InvalidHostNetworksInitError })?.path, 'prefix')
  t.is(t.throws(() => hostNetworks({ prefix: 'abcdefgh', maxIndex: 1_000_000 }), { instanceOf: InvalidHostNetworksInitError })?.path, 'prefix')
  t.is(t.throws(() => hostNetworks({ prefix: 'ab', maxIndex: -1 }), { instanceOf: InvalidHostNetworksInitError })?.path, 'maxIndex')
  t.regex(prefixFor('/var/lib/vmplant'), /^vp[0-9a-f]{6}$/)
  const nets = hostNetworks({ prefix: 'abcdefgh' })
  t.is(nets.bridgeName(4095), 'abcdefghb4095')
  t.true(nets.tapName('vm-0123456789abcdef.12D3KooWxyz').length <= 15)
  t.not(nets.tapName('vm-a'), nets.tapName('vm-b'))
  t.throws(() => nets.bridgeName(-1), { instanceOf: RangeError })
})

rootTest('bridges are made once, kept without a host address, listed by index and removed; a tap goes on its bridge and away again', async (t) => {
  await sweepStaleLinks()
  const prefix = testLinkPrefix()
  const nets = hostNetworks({ prefix })
  t.teardown(async () => {
    for (const index of await nets.list()) await nets.remove(index)
  })
  t.like(await nets.probe(), { available: true })
  t.false(await linkExists(`${prefix}p`), 'the probe leaves no bridge')
  const bridge = await nets.ensure(2)
  t.is(bridge, `${prefix}b2`)
  t.is(await nets.ensure(2), bridge, 'a second ensure keeps the bridge')
  await nets.ensure(0)
  t.deepEqual(await nets.list(), [0, 2])

  const tap = nets.tapName('vm-x')
  await createTap(tap, bridge)
  t.is(await masterOf(tap), bridge)
  await createTap(tap, bridge)
  t.is(await masterOf(tap), bridge, 'a tap left from an earlier try is replaced')
  await t.throwsAsync(createTap(`${prefix}tx`, `${prefix}b9`), { instanceOf: HostNetworkError })
  t.false(await linkExists(`${prefix}tx`), 'a tap that could not join its bridge is removed')
  await t.throwsAsync(createTap('bad name!', bridge), { instanceOf: HostNetworkError, message: /not a link name/ })
  await deleteTap(tap)
  await deleteTap(tap)
  t.false(await linkExists(tap))

  // changes of one bridge keep their order: a remove asked before an ensure never undoes it
  await Promise.all([nets.remove(2), nets.ensure(2), nets.remove(2), nets.ensure(2)])
  t.true(await linkExists(bridge))
  await nets.remove(2)
  await nets.remove(2)
  await nets.remove(0)
  t.deepEqual(await nets.list(), [])
  t.deepEqual(await linksStartingWith(prefix), [])
})
