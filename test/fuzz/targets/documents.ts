import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { InvalidSpecError, canonicalJson, validateSpec, type Json as PlannerJson } from '../../../src/planner/index.js'
import { readSpecFile } from '../../../src/cli/spec-file.js'
import { ConfigError } from '../../../src/daemon/errors.js'
import { loadNodeConfig, validateNodeConfig } from '../../../src/daemon/config.js'
import { ScenarioError } from '../../../sim/errors.js'
import { loadScenario } from '../../../sim/scenario.js'
import { FuzzFailure, type FuzzTarget } from '../harness.js'
import { SPEC, fixtures } from '../fixtures.js'
import { anyJson, jsonBytes, mutated, mutatedBytes, nest, type Json } from '../mutate.js'

const REPO = join(import.meta.dirname, '..', '..', '..', '..')
const encoder = new TextEncoder()

/** YAML a person might write, or an attacker: anchors, aliases, tags, merge keys, deep flow nesting */
const NASTY_YAML = [
  'a: &x [1, 2]\nb: *x\n',
  'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
  '!!binary aGVsbG8=\n', '!!set {a, b}\n', '!!omap [a: 1]\n', '? [a, b]\n: c\n', '<<: {hardware: {memoryMB: 64}}\n',
  '%YAML 1.1\n---\nhardware: {memoryMB: 0x40, os: linux}\n', '---\n---\n', 'hardware: !!str 64\n', '__proto__: {polluted: true}\n',
  '[' .repeat(5000) + ']'.repeat(5000), '{a: ' .repeat(2000) + '1' + '}'.repeat(2000), '\t- x\n', '"\\ud800"\n', '\ufeffa: 1\n'
].map((t) => encoder.encode(t))

/** a document's inputs: mutations of valid seeds as YAML or JSON, byte mutations of them, and nasty YAML */
function documents (seeds: Json[], limit: number): fc.Arbitrary<Uint8Array> {
  const seed = fc.constantFrom(...seeds)
  const value = fc.oneof({ arbitrary: seed, weight: 1 }, { arbitrary: seed.chain((s) => mutated(s, { maxRepeat: 200 })), weight: 8 })
  const asYaml = (v: Json): Uint8Array => {
    try {
      return encoder.encode(stringifyYaml(v, { aliasDuplicateObjects: false }))
    } catch {
      return jsonBytes(v)
    }
  }
  return fc.oneof(
    { arbitrary: value.map(asYaml), weight: 6 },
    { arbitrary: value.map(jsonBytes), weight: 3 },
    { arbitrary: value.map(asYaml).chain((b) => mutatedBytes(b, limit)), weight: 3 },
    { arbitrary: fc.constantFrom(...NASTY_YAML), weight: 1 },
    { arbitrary: anyJson.map(asYaml), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => encoder.encode(s)), weight: 1 }
  )
}

async function yamlSeeds (files: string[]): Promise<Json[]> {
  return await Promise.all(files.map(async (file) => parseYaml(await readFile(join(REPO, file), 'utf8')) as Json))
}

/** The spec parser, the config parser and the simulator's scenario parser; files are written under `dir`. */
export async function documentTargets (dir: string): Promise<FuzzTarget[]> {
  const f = await fixtures()
  const specSeeds: Json[] = [
    SPEC, ...await yamlSeeds(['config/demo-spec.yaml']), { hardware: { memoryMB: 16, os: 'linux' } },
    // the guest's address on its domain's network: static, or from the client LAN's DHCP server
    { ...SPEC as object, network: { address: '192.168.77.10/24', gateway: '192.168.77.1' } },
    { hardware: { memoryMB: 64, os: 'linux' }, network: { dhcp: true } },
    { ...SPEC as object, network: { dhcp: true, leaseTimeoutMs: 45_000 } }
  ]
  const configSeeds: Json[] = [
    ...await yamlSeeds(['config/plant.yaml', 'config/shop.yaml', 'config/broker.yaml', 'config/site-plant.yaml']),
    { roles: ['plant'], dataDir: 'data', plant: { driver: { kind: 'qemu', poolSize: 2, accel: 'tcg', goldenDir: '/dev/shm/x' }, networks: 'bridge', networkPrefix: 'vpab', learning: { after: 3, diskBudgetMB: 1024 } } },
    { roles: ['shop', 'plant'], dataDir: 'data', shop: { bidWindowMs: 100, orderTimeoutMs: 1000, choices: 2, maxPendingCreates: 256 }, dht: 'server' },
    // every field a node config has: the log's format, the status protocol's operators, the warm pool's bounds, the queues' bounds
    {
      roles: ['plant'], listen: ['/ip4/127.0.0.1/tcp/4001'], dataDir: 'data', keyFile: 'node.key', redialMs: 500, stopTimeoutMs: 20_000, maxRequestsPerConnection: 64,
      log: { format: 'json' }, status: { allow: [f.client, f.shop] }, metrics: { listen: '127.0.0.1:9464' }, federation: { psk: 'swarm.key', allow: [f.client] },
      plant: {
        memoryMB: 4096, maxQueuedOrders: 16, networks: 'model',
        driver: { kind: 'qemu', poolSize: 2, poolSpawns: 2, poolMax: 6, poolNiceness: 10, accel: 'tcg', tbSizeMB: 32, diskMB: 64, overheadMB: 64 },
        imageFetch: { bytesPerSecond: 1e8, costPerSecond: 1, lookupMs: 500 }
      }
    },
    { roles: ['shop'], dataDir: 'data', log: { format: 'text' }, status: { allow: [] }, shop: { maxPendingCreates: 1 } }
  ]
  const scenarioSeeds = await yamlSeeds(['sim/scenarios/paper-3.4.yaml', 'sim/scenarios/partition.yaml', 'sim/scenarios/plant-failure.yaml', 'sim/scenarios/policy-compare.yaml'])
  const file = (name: string): string => join(dir, name)

  return [
    {
      name: 'spec',
      // a spec as the shop and the plant get it: a JSON value
      inputs: fc.oneof(
        { arbitrary: fc.constantFrom(...specSeeds).chain(mutated), weight: 9 },
        { arbitrary: fc.integer({ min: 2, max: 2000 }).map((d) => ({ hardware: { memoryMB: 64, os: 'linux' }, actions: nest(d) }) as Json), weight: 1 },
        { arbitrary: anyJson, weight: 1 }
      // a spec reaches the parser through a frame of at most 1 MiB
      ).map(jsonBytes).filter((bytes) => bytes.byteLength <= 1024 * 1024),
      errors: [{ type: InvalidSpecError, clear: /\S/ }],
      run: (bytes) => {
        const spec = validateSpec(JSON.parse(new TextDecoder().decode(bytes)))
        // a validated spec validates again, to the same spec
        const again = validateSpec(structuredClone(spec))
        if (canonicalJson(again as unknown as PlannerJson) !== canonicalJson(spec as unknown as PlannerJson)) throw new FuzzFailure('a validated spec does not validate to itself')
      }
    },
    {
      name: 'spec-file',
      deadlineMs: 10_000,
      inputs: documents(specSeeds, 0),
      errors: [{ type: InvalidSpecError, clear: /input\.yaml(: | is not valid YAML or JSON: | nests deeper than \d+ levels)\S?/ }],
      run: async (bytes) => {
        await writeFile(file('input.yaml'), bytes)
        await readSpecFile(file('input.yaml'))
      }
    },
    {
      name: 'config',
      deadlineMs: 10_000,
      inputs: documents(configSeeds, 0),
      errors: [{ type: ConfigError, clear: /node\.yaml(: | is not valid YAML: | nests deeper than \d+ levels)\S?/ }],
      run: async (bytes) => {
        await writeFile(file('node.yaml'), bytes)
        const config = await loadNodeConfig(file('node.yaml'))
        // what was accepted, with its defaults filled in, is itself a valid config
        validateNodeConfig(structuredClone(config))
      }
    },
    {
      name: 'scenario',
      deadlineMs: 10_000,
      inputs: documents(scenarioSeeds, 0),
      errors: [{ type: ScenarioError, clear: /\S+(: | is not valid YAML: )\S/ }],
      run: async (bytes) => {
        await writeFile(file('scenario.yaml'), bytes)
        await loadScenario(file('scenario.yaml'))
      }
    }
  ]
}
