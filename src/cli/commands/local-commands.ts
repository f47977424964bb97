import { join } from 'node:path'
import type { Command } from 'commander'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startEmbeddedFederation } from '../../daemon/embedded.js'
import { stopOnSignals } from '../../daemon/lifecycle.js'
import { driverConfigSchema, type DriverConfig } from '../../daemon/config.js'
import { lineUnavailable } from '../../hypervisor/available.js'
import { VmplantClient } from '../client.js'
import { readSpecFile } from '../spec-file.js'
import { describeCreate } from './client-commands.js'
import { packageRoot } from '../../paths.js'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'

const DRIVERS = ['qemu', 'uml', 'sim'] as const

function parsePlants (value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new UsageError(`--plants must be a whole number from 1 to 200, not "${value}"`)
  return n
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

export function registerLocalCommands (program: Command, out: Output): void {
  program.command('up')
    .description('run a local federation (one shop, N plants) in this process until interrupted; prints the shop\'s address')
    .option('--plants <n>', 'how many plants', '2')
    .option('--driver <kind>', `production line of the plants: ${DRIVERS.join(', ')} (default: qemu where installed, else sim)`)
    .option('--port <port>', 'TCP port of the shop on 127.0.0.1 (0: any free port)', '0')
    .option('--json', 'print only the JSON line, nothing for people')
    .action(async (options: { plants: string, driver?: string, port: string, json?: boolean }) => {
      const port = Number(options.port)
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a TCP port number, not "${options.port}"`)
      const federation = await startEmbeddedFederation({ plants: parsePlants(options.plants), plant: { driver: await chooseDriver(options.driver, out) }, shopPort: port })
      stopOnSignals(async () => { await federation.stop() }, (line) => { out.error(line) })
      await federation.ready()
      out.print(JSON.stringify({ shop: federation.shopAddr }))
      if (options.json !== true) {
        out.error(`vmplant: a shop and ${federation.plants.length} plant(s) run on 127.0.0.1 until Ctrl-C. Try:`)
        out.error(`  vmplant create --shop ${federation.shopAddr} --spec config/demo-spec.yaml --domain demo`)
      }
      await new Promise<never>(() => {})
    })

  program.command('demo')
    .description('create, show and destroy one VM in a local federation, and explain the choice')
    .option('--plants <n>', 'how many plants', '2')
    .option('--driver <kind>', `production line of the plants: ${DRIVERS.join(', ')} (default: qemu where installed, else sim)`)
    .option('--spec <file>', 'the VM spec', join(packageRoot, 'config', 'demo-spec.yaml'))
    .action(async (options: { plants: string, driver?: string, spec: string }) => {
      const plants = parsePlants(options.plants)
      const driver = await chooseDriver(options.driver, out)
      const { raw, spec } = await readSpecFile(options.spec)
      out.print(`vmplant demo: a shop and ${plants} plant(s) on 127.0.0.1, production line "${driver.kind}"`)
      const federation = await startEmbeddedFederation({ plants, plant: { driver } })
      // Ctrl-C stops the plants, which kill what they started (a golden image being booted, VMs)
      stopOnSignals(async () => { await client.stop(); await federation.stop() }, (line) => { out.error(line) })
      const client = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
      try {
        await federation.ready()
        await client.start()
        out.print(`\n1. create: ${spec.hardware.memoryMB} MB ${spec.hardware.os} VM with ${spec.actions.length} action(s) from ${options.spec}`)
        if (driver.kind !== 'sim') out.print(`  (on a fresh machine the winning plant first builds the guest image from Debian packages and boots a golden image: tens of seconds under TCG; later creates clone it in milliseconds)`)
        const created = await client.create(raw, 'demo')
        out.print(describeCreate(created))
        out.print(JSON.stringify(created.classad, null, 2))
        out.print(`\n2. query ${created.classad.vmid}`)
        const queried = await client.query(created.classad.vmid)
        out.print(`  state ${queried.state} on plant ${queried.plant}, network ${queried.network.name}`)
        for (const [id, output] of Object.entries(queried.outputs)) out.print(`  action ${id} (exit ${output.exitCode}): ${output.stdout.trim().split('\n').join('; ')}`)
        out.print(`\n3. destroy ${created.classad.vmid}`)
        await client.destroy(created.classad.vmid)
        const after = await client.list()
        out.print(`  destroyed; the client now holds ${after.vms.length} VM(s)`)
        out.print(`\nsummary: plant ${created.classad.plant.slice(-8)} won (cost ${created.classad.cost}); created in ${Math.round(created.classad.timings.totalMs)} ms`)
      } finally {
        await client.stop()
        await federation.stop()
      }
    })
}
