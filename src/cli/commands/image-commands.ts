import type { Command } from 'commander'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { createNode } from '../../net/node.js'
import { warehouseProtocol } from '../../net/protocols/warehouse/index.js'
import type { WarehouseRequest } from '../../interface/messages.js'
import { readWarehouse, formatPlanView, type ImageSummary, type PlanView } from '../../actors/plant/warehouse-view.js'
import { actionIdentity, isHostAction, topologicalOrder, validateSpec } from '../../planner/index.js'
import { loadNodeConfig } from '../../daemon/config.js'
import { createLine } from '../../daemon/create-line.js'
import { join } from 'node:path'
import { readSpecFile } from '../spec-file.js'
import { withLocalStore, onlyLineKind } from '../local-warehouse.js'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'

interface Where { warehouse?: string, plant?: string, line?: string }

/** Reads a warehouse: a stopped plant's folder directly, or a running plant over the network. */
async function read (where: Where, request: WarehouseRequest): Promise<unknown> {
  if ((where.warehouse === undefined) === (where.plant === undefined)) throw new UsageError('give exactly one of --warehouse DIR and --plant ADDR')
  if (where.warehouse !== undefined) {
    return await withLocalStore(where.warehouse, async (store) => {
      const line = where.line ?? await onlyLineKind(store) ?? 'sim'
      return await readWarehouse(store.warehouse, line, request)
    })
  }
  const node = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] })
  await node.start()
  try {
    return await warehouseProtocol({ libp2p: node }).read(multiaddr(where.plant as string), request, { signal: AbortSignal.timeout(30_000) })
  } finally {
    await node.stop()
  }
}

function whereOptions (command: Command): Command {
  return command
    .option('--warehouse <dir>', "a stopped plant's folder (its dataDir)")
    .option('--plant <multiaddr>', 'a running plant')
}

export function registerImageCommands (program: Command, out: Output): void {
  whereOptions(program.command('plan')
    .description('show which golden image a plant would clone for a spec, which actions it saves, and why the other images fail')
    .requiredOption('--spec <file>', 'the VM spec')
    .option('--line <kind>', 'production line whose images count, with --warehouse (default: the only kind there)'))
    .option('--json', 'print JSON')
    .action(async (options: Where & { spec: string, json?: boolean }) => {
      const { raw } = await readSpecFile(options.spec)
      const view = await read(options, { type: 'warehouse.plan', spec: raw }) as PlanView
      out.print(options.json === true ? JSON.stringify(view) : formatPlanView(view).join('\n'))
    })

  const image = program.command('image').description('golden images in a plant\'s warehouse')

  whereOptions(image.command('list').description('list the golden images'))
    .option('--json', 'print JSON')
    .action(async (options: Where & { json?: boolean }) => {
      const images = await read(options, { type: 'warehouse.list' }) as ImageSummary[]
      if (options.json === true) { out.print(JSON.stringify(images)); return }
      if (images.length === 0) out.print('no golden images')
      for (const i of images) out.print(`${i.id}  ${i.line.padEnd(4)} ${String(i.memoryMB).padStart(6)} MB ${i.os}/${i.arch}  ${i.applied} action(s)  ${i.bytes} bytes  ${i.source}, used ${i.uses}x, last ${i.lastUsedAt}`)
    })

  whereOptions(image.command('inspect').description('show one golden image: descriptor, files, use').argument('<id>', 'the image id'))
    .action(async (id: string, options: Where) => {
      out.print(JSON.stringify(await read(options, { type: 'warehouse.inspect', id }), null, 2))
    })

  image.command('remove').description('remove a golden image and the files no other image uses (the plant must be stopped)')
    .argument('<id>', 'the image id')
    .requiredOption('--warehouse <dir>', "the stopped plant's folder (its dataDir)")
    .action(async (id: string, options: { warehouse: string }) => {
      await withLocalStore(options.warehouse, async (store) => {
        if (await store.warehouse.get(id) === undefined) throw new UsageError(`no golden image ${id} in ${options.warehouse}`)
        const files = await store.warehouse.discard(id)
        out.print(`removed ${id}${files.length > 0 ? ` and ${files.join(', ')}` : ''}`)
      })
    })

  const publish = async (options: { config: string, spec?: string }): Promise<void> => {
    const config = await loadNodeConfig(options.config)
    const spec = options.spec !== undefined ? (await readSpecFile(options.spec)).spec : validateSpec({ hardware: { memoryMB: 128, os: 'linux' } })
    const host = spec.actions.find(isHostAction)
    if (host !== undefined) throw new UsageError(`action "${host.id}" is a host action; a golden image records guest actions only`)
    const actions = topologicalOrder(spec.actions)
    const line = createLine(config.plant.driver, join(config.dataDir, 'line'))
    await withLocalStore(config.dataDir, async (store) => {
      await line.start()
      try {
        out.error(`building a ${spec.hardware.memoryMB} MB ${spec.hardware.os} golden image on the ${line.kind} line with ${actions.length} action(s)${line.kind === 'sim' ? '' : ' (the first build also makes the guest image from Debian packages)'}...`)
        const golden = await line.prepareGolden({ hardware: spec.hardware, actions: actions.map((a) => ({ id: a.id, run: a.run, ...(a.timeoutMs !== undefined ? { timeoutMs: a.timeoutMs } : {}) })) })
        const record = await store.warehouse.add({ ...golden, applied: actions.map(actionIdentity) }, 'published', Date.now())
        out.print(`published ${record.id} (${actions.map((a) => a.id).join(', ') || 'no actions'})`)
      } finally {
        await line.stop()
      }
    }, { create: true })
  }

  image.command('publish')
    .description('build a golden image with a spec\'s actions applied, on the plant\'s production line, and add it to its warehouse (the plant must be stopped)')
    .requiredOption('--config <file>', "the plant's node config (its dataDir and driver)")
    .requiredOption('--spec <file>', 'hardware, and the guest actions to apply before the checkpoint')
    .action(publish)

  image.command('build')
    .description('build the guest image (Debian kernel + busybox + agent) and a base golden image on the plant\'s line; with --spec, apply its actions too (the plant must be stopped)')
    .requiredOption('--config <file>', "the plant's node config (its dataDir and driver)")
    .option('--spec <file>', 'hardware and actions (default: 128 MB linux, no actions)')
    .action(publish)
}
