import { artifactBytes, explainPlan, validateSpec, type VmSpec } from '../planner/index.js'
import { ImageNotFoundError, type WarehouseRecord, type WarehouseRequest } from '../interface/index.js'
import type { ImageCatalog } from './catalog.js'

/** One line of `vmplant image list`. */
export interface ImageSummary {
  id: string
  line: string
  memoryMB: number
  os: string
  arch: string
  diskMB: number
  applied: number
  bytes: number
  source: string
  uses: number
  lastUsedAt: string
}

/** What `vmplant plan` shows, as data: the chosen image and why every other one was or was not. */
export interface PlanView {
  line: string
  chosen: { id: string, cloned: string[], run: string[] } | null
  images: Array<{ id: string, admissible: boolean, saves?: number, test?: string, reason?: string }>
}

export function summarize (record: WarehouseRecord): ImageSummary {
  const { hardware } = record.descriptor
  return {
    id: record.id,
    line: record.descriptor.line,
    memoryMB: hardware.memoryMB,
    os: hardware.os,
    arch: hardware.arch,
    diskMB: hardware.diskMB,
    applied: record.descriptor.applied.length,
    bytes: artifactBytes(record.descriptor),
    source: record.source,
    uses: record.uses,
    lastUsedAt: new Date(record.lastUsedAt).toISOString()
  }
}

/** The plan a plant of line `line` would make for `spec` from its warehouse. */
export async function planView (warehouse: Pick<ImageCatalog, 'index'>, line: string, spec: VmSpec): Promise<PlanView> {
  const { plan, verdicts } = explainPlan(spec, await warehouse.index(line))
  return {
    line,
    chosen: plan === undefined ? null : { id: plan.image.id, cloned: plan.cloned.map((a) => a.id), run: plan.remaining.map((a) => a.id) },
    images: verdicts.map((v) => v.admissible
      ? { id: v.image.id, admissible: true, saves: v.cloned.length }
      : { id: v.image.id, admissible: false, test: v.test, reason: v.reason })
  }
}

/** `planView` as lines for a terminal. */
export function formatPlanView (view: PlanView): string[] {
  const lines: string[] = []
  if (view.chosen === null) lines.push(`no ${view.line} golden image can serve this request: the plant would build a base image and run every action`)
  else {
    lines.push(`image   ${view.chosen.id}`)
    lines.push(`cloned  ${view.chosen.cloned.join(', ') || '(none)'}`)
    lines.push(`run     ${view.chosen.run.join(', ') || '(none)'}`)
  }
  for (const image of view.images) {
    if (image.id === view.chosen?.id) continue
    lines.push(image.admissible ? `  ${image.id}  admissible, saves ${image.saves ?? 0}` : `  ${image.id}  rejected by the ${image.test} test: ${image.reason}`)
  }
  return lines
}

/** Answers a read of the warehouse, from the network or from the command line. */
export async function readWarehouse (warehouse: Pick<ImageCatalog, 'list' | 'get' | 'index'>, line: string, request: WarehouseRequest): Promise<unknown> {
  switch (request.type) {
    case 'warehouse.list': return (await warehouse.list()).map(summarize)
    case 'warehouse.inspect': {
      const record = await warehouse.get(request.id)
      if (record === undefined) throw new ImageNotFoundError(request.id)
      return record
    }
    case 'warehouse.plan': return await planView(warehouse, line, validateSpec(request.spec))
    default: {
      const unknown: never = request
      throw new Error(`unknown warehouse request ${(unknown as { type: string }).type}`)
    }
  }
}
