import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { join } from 'node:path'
import { createLightNode } from '../../net/light-node.js'
import { readSwarmKey } from '../../net/federation.js'
import { RemoteError } from '../../net/errors.js'
import { warehouseProtocol } from '../../net/protocols/warehouse/index.js'
import type { WarehouseRequest } from '../../interface/messages.js'
import { imageCatalog, readWarehouse, formatPlanView, type ImageSummary, type PlanView } from '../../images/index.js'
import { actionIdentity, isHostAction, topologicalOrder, validateSpec } from '../../planner/index.js'
import { loadNodeConfig } from '../../daemon/config.js'
import { createLine } from '../../daemon/create-line.js'
import { readSpecFile } from '../spec-file.js'
import { withLocalStore, onlyLineKind } from '../local-warehouse.js'
import { PlantUnreachableError, UsageError } from '../errors.js'
import type { Output } from '../output.js'
import { lineSteps, steps } from '../progress.js'
import { errorMessage } from '../../interface/index.js'

export interface Where {
  warehouse?: string
  plant?: string
  line?: string
  /** with --plant: a closed federation's swarm key file */
  psk?: string
}

/** Reads a warehouse: a stopped plant's folder directly, or a running plant over the network. */
async function read (where: Where, request: WarehouseRequest): Promise<unknown> {
  if ((where.warehouse === undefined) === (where.plant === undefined)) throw new UsageError('give exactly one of --warehouse DIR and --plant ADDR')
  if (where.psk !== undefined && where.plant === undefined) throw new UsageError('--psk is for --plant: a warehouse folder is read directly')
  if (where.warehouse !== undefined) {
    return await withLocalStore(where.warehouse, async (store) => {
      const line = where.line ?? await onlyLineKind(store) ?? 'sim'
      return await readWarehouse(imageCatalog(store.warehouse), line, request)
    })
  }
  return await readPlant(where.plant as string, where.psk, request)
}

/**
 * Asks a running plant, from a light node with a key of its own. A plant that cannot be reached,
 * or that drops the connection at once (a closed federation's swarm key or allowlist), is named
 * as such; the plant's own refusals (an unknown image) pass as they are.
 */
async function readPlant (plant: string, pskFile: string | undefined, request: WarehouseRequest): Promise<unknown> {
  let addr
  try {
    addr = multiaddr(plant)
  } catch {
    throw new UsageError(`--plant "${plant}" is not a multiaddr`)
  }
  const psk = pskFile !== undefined ? await readSwarmKey(pskFile) : undefined
  const node = await createLightNode({ privateKey: await generateKeyPair('Ed25519'), ...(psk !== undefined ? { federation: { psk } } : {}) })
  await node.start()
  try {
    return await warehouseProtocol({ libp2p: node }).read(addr, request, { signal: AbortSignal.timeout(30_000) })
  } catch (err: unknown) {
    if (err instanceof RemoteError) throw err
    const hint = psk === undefined ? 'if it is a closed federation, give its swarm key (--psk)' : "is this the federation's swarm key?"
    throw new PlantUnreachableError(`cannot reach the plant at ${plant}: ${errorMessage(err)}; ${hint}`, { cause: err })
  } finally {
    await node.stop()
  }
}

export async function plan (options: Where & { spec: string, json?: boolean }, out: Output): Promise<void> {
  const { raw } = await readSpecFile(options.spec)
  const view = await read(options, { type: 'warehouse.plan', spec: raw }) as PlanView
  out.print(options.json === true ? JSON.stringify(view) : formatPlanView(view).join('\n'))
}

export async function listImages (options: Where & { json?: boolean }, out: Output): Promise<void> {
  const images = await read(options, { type: 'warehouse.list' }) as ImageSummary[]
  if (options.json === true) { out.print(JSON.stringify(images)); return }
  if (images.length === 0) out.print('no golden images')
  for (const i of images) out.print(`${i.id}  ${i.line.padEnd(4)} ${String(i.memoryMB).padStart(6)} MB ${i.os}/${i.arch}  ${i.applied} action(s)  ${i.bytes} bytes  ${i.source}, used ${i.uses}x, last ${i.lastUsedAt}`)
}

export async function inspectImage (id: string, options: Where, out: Output): Promise<void> {
  out.print(JSON.stringify(await read(options, { type: 'warehouse.inspect', id }), null, 2))
}

export async function removeImage (id: string, options: { warehouse: string }, out: Output): Promise<void> {
  await withLocalStore(options.warehouse, async (store) => {
    if (await store.warehouse.get(id) === undefined) throw new UsageError(`no golden image ${id} in ${options.warehouse}`)
    const files = await imageCatalog(store.warehouse).discard(id)
    out.print(`removed ${id}${files.length > 0 ? ` and ${files.join(', ')}` : ''}`)
  })
}

export async function publish (options: { config: string, spec?: string }, out: Output): Promise<void> {
  const config = await loadNodeConfig(options.config)
  const spec = options.spec !== undefined ? (await readSpecFile(options.spec)).spec : validateSpec({ hardware: { memoryMB: 128, os: 'linux' } })
  const host = spec.actions.find(isHostAction)
  if (host !== undefined) throw new UsageError(`action "${host.id}" is a host action; a golden image records guest actions only`)
  const actions = topologicalOrder(spec.actions)
  // the build's steps (guest image download and build, boot, actions, checkpoint) on stderr
  const shown = steps(out)
  const line = createLine(config.plant.driver, join(config.dataDir, 'line'), { onProgress: (event) => { onLine(`${config.plant.driver.kind} line`, event) } })
  const onLine = lineSteps(shown)
  await withLocalStore(config.dataDir, async (store) => {
    await line.start()
    try {
      out.error(`building a ${spec.hardware.memoryMB} MB ${spec.hardware.os} golden image on the ${line.kind} line with ${actions.length} action(s)${line.kind === 'sim' ? '' : ' (the first build also makes the guest image from Debian packages)'}...`)
      const golden = await line.prepareGolden({ hardware: spec.hardware, actions: actions.map((a) => ({ id: a.id, run: a.run, ...(a.timeoutMs !== undefined ? { timeoutMs: a.timeoutMs } : {}) })) })
      const record = await imageCatalog(store.warehouse).add({ ...golden, applied: actions.map(actionIdentity) }, 'published', Date.now())
      out.print(`published ${record.id} (${actions.map((a) => a.id).join(', ') || 'no actions'})`)
    } finally {
      shown.close('failed')
      await line.stop()
    }
  }, { create: true })
}
