import test from 'ava'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validateSpec, InvalidSpecError, DHCP_LEASE_TIMEOUT_MS } from '../../src/planner/index.js'
import { readSpecFile } from '../../src/cli/spec-file.js'

const hardware = { memoryMB: 64, os: 'linux' }

test('a static address with a gateway on its subnet is kept as given', (t) => {
  const spec = validateSpec({ hardware, network: { address: '192.168.77.10/24', gateway: '192.168.77.1' } })
  t.deepEqual(spec.network, { address: '192.168.77.10/24', gateway: '192.168.77.1' })
  t.deepEqual(validateSpec({ hardware, network: { address: '10.1.2.3/8' } }).network, { address: '10.1.2.3/8' })
  t.deepEqual(validateSpec({ hardware, network: { address: '10.1.2.3/8', dhcp: false } }).network, { address: '10.1.2.3/8' }, 'dhcp: false is dropped')
  t.is(validateSpec({ hardware }).network, undefined, 'no network field: none')
})

test('DHCP asks for no address, and gets the default lease timeout unless the spec names one', (t) => {
  t.deepEqual(validateSpec({ hardware, network: { dhcp: true } }).network, { dhcp: true, leaseTimeoutMs: DHCP_LEASE_TIMEOUT_MS })
  t.deepEqual(validateSpec({ hardware, network: { dhcp: true, leaseTimeoutMs: 3000 } }).network, { dhcp: true, leaseTimeoutMs: 3000 })
  const once = validateSpec({ hardware, network: { dhcp: true } })
  t.deepEqual(validateSpec(JSON.parse(JSON.stringify(once))), once, 'a validated DHCP spec validates again to itself')
})

test('a validated spec with a network validates again to the same spec', (t) => {
  const once = validateSpec({ hardware, network: { address: '172.16.0.5/16', gateway: '172.16.255.254' } })
  t.deepEqual(validateSpec(JSON.parse(JSON.stringify(once))), once)
})

const bad: Array<[string, unknown, string, RegExp]> = [
  ['no prefix length', { address: '192.168.77.10' }, 'network.address', /prefix length/],
  ['not an address', { address: 'vm.example/24' }, 'network.address', /IPv4 address/],
  ['an octet over 255', { address: '192.168.77.300/24' }, 'network.address', /IPv4 address/],
  ['a leading zero', { address: '192.168.077.10/24' }, 'network.address', /IPv4 address/],
  ['a /31', { address: '192.168.77.10/31' }, 'network.address', /1 to 30/],
  ['a /0', { address: '192.168.77.10/0' }, 'network.address', /1 to 30/],
  ['the network address', { address: '192.168.77.0/24' }, 'network.address', /network address/],
  ['the broadcast address', { address: '192.168.77.255/24' }, 'network.address', /broadcast address/],
  ['loopback', { address: '127.0.0.5/8' }, 'network.address', /not a unicast host/],
  ['multicast', { address: '224.0.0.5/24' }, 'network.address', /not a unicast host/],
  ['a gateway off the subnet', { address: '192.168.77.10/24', gateway: '192.168.78.1' }, 'network.gateway', /not a host of 192\.168\.77\.10\/24's subnet/],
  ['the VM as its own gateway', { address: '192.168.77.10/24', gateway: '192.168.77.10' }, 'network.gateway', /own address/],
  ['a gateway that is no address', { address: '192.168.77.10/24', gateway: 'router' }, 'network.gateway', /IPv4 address/],
  ['a gateway without an address', { gateway: '192.168.77.1' }, 'network.address', /is needed/],
  ['an empty network', {}, 'network.address', /is needed/],
  ['DHCP and an address', { dhcp: true, address: '192.168.77.10/24' }, 'network.dhcp', /one or the other/],
  ['DHCP and a gateway', { dhcp: true, gateway: '192.168.77.1' }, 'network.dhcp', /one or the other/],
  ['a lease timeout without DHCP', { address: '192.168.77.10/24', leaseTimeoutMs: 5000 }, 'network.leaseTimeoutMs', /needs network.dhcp: true/],
  ['a lease timeout under a second', { dhcp: true, leaseTimeoutMs: 10 }, 'network.leaseTimeoutMs', /at least 1000/],
  ['a lease timeout that is no number', { dhcp: true, leaseTimeoutMs: '5s' }, 'network.leaseTimeoutMs', /expected number/],
  ['DHCP that is no boolean', { dhcp: 'yes' }, 'network.dhcp', /expected boolean/],
  ['an unknown field', { address: '192.168.77.10/24', netmask: '255.255.255.0' }, 'network', /unknown field "netmask"/],
  ['an address that is a number', { address: 3232254218 }, 'network.address', /expected string/]
]
for (const [what, network, path, problem] of bad) {
  test(`network: ${what} is refused, naming ${path}`, (t) => {
    const err = t.throws(() => validateSpec({ hardware, network }), { instanceOf: InvalidSpecError })
    t.is(err?.path, path)
    t.regex(err?.problem ?? '', problem)
    t.true(err?.message.startsWith(`${path}: `))
  })
}

test('a spec file with a bad network names the file and the field', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vmplant-spec-net-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'vm.yaml')
  await writeFile(file, 'hardware: { memoryMB: 64, os: linux }\nnetwork:\n  address: 10.0.0.1/24\n  gateway: 10.0.1.1\n')
  const err = await t.throwsAsync(readSpecFile(file), { instanceOf: InvalidSpecError })
  // (issue 24) and where the field's value is in the file
  t.is(err?.message, `${file}: network.gateway: 10.0.1.1 is not a host of 10.0.0.1/24's subnet (line 4, column 12)`)
  await writeFile(file, 'hardware: { memoryMB: 64, os: linux }\nnetwork: { address: 10.0.0.2/24, gateway: 10.0.0.1 }\n')
  t.deepEqual((await readSpecFile(file)).spec.network, { address: '10.0.0.2/24', gateway: '10.0.0.1' })
})
