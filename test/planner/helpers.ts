import { createDescriptor, validateSpec, type ActionSpec, type GoldenDescriptor, type ImageHardware, type VmSpec, type WarehouseImageInit } from '../../src/planner/index.js'

export const HW: ImageHardware = { arch: 'x86_64', os: 'linux', memoryMB: 256, diskMB: 4096 }

/** A short form of an action: `[id, script, after?]`. */
export type ActionShort = [string, string, string[]?]

/** A validated spec on HW from short actions. */
export function makeSpec (actions: ActionShort[], hardware: Partial<VmSpec['hardware']> = {}): VmSpec {
  return validateSpec({
    hardware: { memoryMB: HW.memoryMB, os: HW.os, arch: HW.arch, ...hardware },
    actions: actions.map(([id, run, after]) => ({ id, run, after: after ?? [] }))
  })
}

/** A descriptor that applied `applied` (actions of `from`, by id) in that order. */
export function makeDescriptor (from: ActionSpec[], applied: string[], hardware: Partial<ImageHardware> = {}, bytes = 1000): GoldenDescriptor {
  const byId = new Map(from.map((a) => [a.id, a]))
  return createDescriptor({
    line: 'sim',
    hardware: { ...HW, ...hardware },
    applied: applied.map((id) => {
      const action = byId.get(id)
      if (action === undefined) throw new Error(`no action ${id}`)
      return action
    }),
    artifacts: [{ name: 'disk.qcow2', sha256: 'a'.repeat(64), bytes }]
  })
}

/** A warehouse entry with an explicit, readable id. */
export function makeImage (id: string, from: ActionSpec[], applied: string[], hardware: Partial<ImageHardware> = {}, cloneCost = 1): WarehouseImageInit {
  return { id, descriptor: makeDescriptor(from, applied, hardware), cloneCost }
}

export const ids = (actions: Array<{ id: string }>): string[] => actions.map((a) => a.id)
