import { performance } from 'node:perf_hooks'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startEmbeddedFederation, type EmbeddedFederation } from '../../daemon/embedded.js'
import { warehouseProtocol } from '../../net/protocols/warehouse/index.js'
import { formatPlanView, type PlanView } from '../../images/views.js'
import type { VmSpec } from '../../planner/index.js'
import type { Classad } from '../../interface/messages.js'
import { stopOnSignals } from '../../daemon/lifecycle.js'
import { driverConfigSchema, type DriverConfig } from '../../daemon/config.js'
import { lineUnavailable } from '../../hypervisor/available.js'
import { VmplantClient } from '../client.js'
import { readSpecFile } from '../spec-file.js'
import { createSteps, describeCreate } from './client-actions.js'
import { lineSteps, steps } from '../progress.js'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'
import { wholeNumber } from '../option-values.js'
import { DRIVERS } from '../drivers.js'

function parsePlants (value: string): number {
  return wholeNumber(value, '--plants', 1, 200)
}

/**
 * The production line for demo and up: the one asked for, which must be installed; without
 * --driver, QEMU where it is installed and the simulated line elsewhere, said in one line.
 */
async function chooseDriver (value: string | undefined, out: Output): Promise<DriverConfig> {
  if (value !== undefined && !(DRIVERS as readonly string[]).includes(value)) throw new UsageError(`--driver must be one of ${DRIVERS.join(', ')}, not "${value}"`)
  const kind = value ?? 'qemu'
  const missing = await lineUnavailable(kind)
  if (missing !== undefined && value !== undefined) throw new UsageError(`--driver ${kind}: ${missing}`)
  if (missing !== undefined) {
    out.error(`vmplant: using the simulated production line: ${missing}`)
    return driverConfigSchema.parse({ kind: 'sim' })
  }
  return driverConfigSchema.parse({ kind })
}

export async function up (options: { plants: string, driver?: string, port: string, json?: boolean }, out: Output): Promise<void> {
  const port = Number(options.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a TCP port number, not "${options.port}"`)
  // the plants' long work (a first golden image) as steps on stderr, unless only the JSON line is wanted
  const shown = options.json === true ? undefined : steps(out)
  const federation = await startEmbeddedFederation({ plants: parsePlants(options.plants), plant: { driver: await chooseDriver(options.driver, out) }, shopPort: port, ...(shown !== undefined ? { onLineProgress: lineSteps(shown) } : {}) })
  stopOnSignals(async () => { shown?.close('stopped'); await federation.stop() }, (line) => { out.error(line) })
  await federation.ready()
  out.print(JSON.stringify({ shop: federation.shopAddr }))
  if (options.json !== true) {
    out.error(`vmplant: a shop and ${federation.plants.length} plant(s) run on 127.0.0.1 until Ctrl-C. Try:`)
    out.error(`  vmplant create --shop ${federation.shopAddr} --spec config/demo-spec.yaml --domain demo`)
  }
  await new Promise<never>(() => {})
}

export async function demo (options: { plants: string, driver?: string, spec: string }, out: Output): Promise<void> {
  const plants = parsePlants(options.plants)
  const driver = await chooseDriver(options.driver, out)
  const { raw, spec } = await readSpecFile(options.spec)
  out.print(`vmplant demo: a shop and ${plants} plant(s) on 127.0.0.1, production line "${driver.kind}"; plants learn a golden image from each request's actions`)
  // learning after one request: the first VM's actions become a golden image the second VM clones
  // on stderr: the plants' steps (guest image, golden boot, checkpoint, image fetch) and the client's wait
  const shown = steps(out)
  const federation = await startEmbeddedFederation({ plants, plant: { driver, learning: { after: 1 } }, onLineProgress: lineSteps(shown) })
  const client = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519'), onEvent: createSteps(shown, 'on 127.0.0.1', { lineShown: true, plantName: (peer) => federation.plantName(peer) }) })
  // Ctrl-C stops the plants, which kill what they started (a golden image being booted, VMs)
  stopOnSignals(async () => { shown.close('stopped'); await client.stop(); await federation.stop() }, (line) => { out.error(line) })
  try {
    await federation.ready()
    await client.start()
    await runDemo(federation, client, { raw, spec, file: options.spec, line: driver.kind }, out)
  } finally {
    shown.close('stopped')
    await client.stop()
    await federation.stop()
  }
}

interface DemoSpec { raw: unknown, spec: VmSpec, file: string, line: string }

/** The learning round a plant runs after its n-th create, and how long the demo waited for it. */
async function learned (federation: EmbeddedFederation, plant: string, round: number): Promise<{ image?: string, error?: string, waitedMs: number }> {
  const started = performance.now()
  let outcome
  try {
    outcome = await federation.learningRound(plant, round, { signal: AbortSignal.timeout(LEARNING_DEADLINE_MS) })
  } catch {
    return { error: `not done after ${seconds(LEARNING_DEADLINE_MS)}`, waitedMs: performance.now() - started }
  }
  const waitedMs = performance.now() - started
  if (!outcome.ok) return { error: outcome.error.message, waitedMs }
  return { ...(outcome.value.learned !== undefined ? { image: outcome.value.learned } : {}), waitedMs }
}

/** a learned golden image boots a fresh VM and runs the actions: seconds under TCG, more on a loaded host */
const LEARNING_DEADLINE_MS = 300_000

/**
 * The second VM's spec: the first one's actions and one more after all of them, so that the
 * image learned from the first VM is a prefix of it (the paper's partial match).
 */
function extendedSpec (demo: DemoSpec): { raw: unknown, extra: string } {
  const ids = new Set(demo.spec.actions.map((a) => a.id))
  let extra = 'motd'
  for (let i = 2; ids.has(extra); i++) extra = `motd-${i}`
  const last = demo.spec.actions.filter((a) => !demo.spec.actions.some((b) => b.after.includes(a.id))).map((a) => a.id)
  const raw = demo.raw as { actions?: unknown[] }
  return { raw: { ...raw, actions: [...(raw.actions ?? []), { id: extra, run: 'echo motd=welcome to a cloned VM', after: last }] }, extra }
}

function list (ids: string[]): string {
  return ids.length === 0 ? 'none' : ids.join(', ')
}

function seconds (ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`
}

async function runDemo (federation: EmbeddedFederation, client: VmplantClient, demo: DemoSpec, out: Output): Promise<void> {
  const { spec } = demo
  out.print(`\n1. create: ${spec.hardware.memoryMB} MB ${spec.hardware.os} VM with ${spec.actions.length} action(s) from ${demo.file}`)
  if (demo.line !== 'sim') out.print('  (on a fresh machine the winning plant first builds the guest image from Debian packages and boots a golden image: tens of seconds under TCG; later creates clone it)')
  const first = await client.create(demo.raw, 'demo')
  const ad1 = first.classad
  out.print(describeCreate(first))
  out.print(`  golden image ${ad1.goldenImage}: built for this VM; cloned actions: ${list(ad1.actions.cloned)}; ran: ${list(ad1.actions.run)}`)
  out.print(JSON.stringify(ad1, null, 2))

  out.print(`\n2. query ${ad1.vmid}`)
  const queried = await client.query(ad1.vmid)
  out.print(`  state ${queried.state} on plant ${queried.plant}, network ${queried.network.name}`)
  for (const [id, output] of Object.entries(queried.outputs)) out.print(`  action ${id} (exit ${output.exitCode}): ${output.stdout.trim().split('\n').join('; ')}`)

  out.print(`\n3. plant ${short(ad1.plant)} learns: it checkpoints a fresh VM with the request's actions as a new golden image`)
  const learning = await learned(federation, ad1.plant, 1)
  if (learning.image !== undefined) out.print(`  learned golden image ${learning.image} (actions ${list(ad1.actions.run)}); the demo waited ${seconds(learning.waitedMs)} for it`)
  else out.print(`  learned nothing${learning.error !== undefined ? `: ${learning.error}` : ''}; the next VM clones ${ad1.goldenImage} and runs every action`)

  const second = extendedSpec(demo)
  out.print(`\n4. create a second VM: the same actions and one more, "${second.extra}"`)
  const plant = federation.plants.find((p) => p.peerId === ad1.plant)
  const shopNode = federation.shop.libp2p
  if (plant !== undefined && shopNode !== undefined) {
    // the plan the plant will make, read over /vmplant/warehouse as `vmplant plan --plant` reads it
    const view = await warehouseProtocol({ libp2p: shopNode }).read(multiaddr(plant.multiaddrs[0] as string), { type: 'warehouse.plan', spec: second.raw }, { signal: AbortSignal.timeout(30_000) }) as PlanView
    out.print(`  vmplant plan on plant ${short(ad1.plant)}:`)
    for (const line of formatPlanView(view)) out.print(`    ${line}`)
  }
  const made = await client.create(second.raw, 'demo')
  const ad2 = made.classad
  out.print(describeCreate(made))
  const from = ad2.goldenImage === ad1.goldenImage ? 'the first VM\'s golden image' : ad2.goldenImage === learning.image ? 'the image learned from the first VM' : 'an image of this plant'
  out.print(`  partial match: cloned ${ad2.goldenImage} (${from}), saved ${ad2.actions.cloned.length} action(s): ${list(ad2.actions.cloned)}; ran ${ad2.actions.run.length}: ${list(ad2.actions.run)}`)
  // the plant learns from this request too; wait, so that no golden image is being booted while the demo stops
  const round = ad2.plant === ad1.plant ? 2 : 1
  const after = await learned(federation, ad2.plant, round)
  if (after.image !== undefined) out.print(`  (plant ${short(ad2.plant)} then learned ${after.image} from this request; the demo waited ${seconds(after.waitedMs)} for it)`)
  else if (after.error !== undefined) out.print(`  (plant ${short(ad2.plant)} learning from this request: ${after.error})`)

  out.print(`\n5. destroy ${ad1.vmid} and ${ad2.vmid}`)
  await client.destroy(ad1.vmid)
  await client.destroy(ad2.vmid)
  const remaining = await client.list()
  out.print(`  destroyed both; the client now holds ${remaining.vms.length} VM(s)`)

  out.print('\nsummary: what the plant saves')
  out.print(`  first VM   ${seconds(ad1.timings.totalMs).padStart(8)}  plant ${short(ad1.plant)} (cost ${ad1.cost}) built golden image ${ad1.goldenImage.slice(-8)}, cloned it, ran ${ad1.actions.run.length} action(s)`)
  out.print(`  second VM  ${seconds(ad2.timings.totalMs).padStart(8)}  plant ${short(ad2.plant)} (cost ${ad2.cost}) cloned ${ad2.goldenImage.slice(-8)}, saved ${ad2.actions.cloned.length} action(s), ran ${ad2.actions.run.length}`)
  out.print(`  (request to classad: bidding, then cloning incl. any golden image build, then configuring; the first VM: ${timings(ad1)}; the second: ${timings(ad2)})`)
}

function short (peer: string): string {
  return peer.slice(-8)
}

function timings (ad: Classad): string {
  return `${seconds(ad.timings.biddingMs)} + ${seconds(ad.timings.cloningMs)} + ${seconds(ad.timings.configuringMs)}`
}
