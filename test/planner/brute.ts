import type { VmSpec } from '../../src/planner/index.js'

/** The tests as the paper words them, on action ids (the actions of a generated spec have distinct definitions). */
export type BruteVerdict = true | 'hardware' | 'subset' | 'prefix' | 'partial-order'

/** All ancestors of each action, by naive search. */
export function ancestorsOf (spec: VmSpec): Map<string, Set<string>> {
  const after = new Map(spec.actions.map((a) => [a.id, a.after]))
  const out = new Map<string, Set<string>>()
  for (const a of spec.actions) {
    const seen = new Set<string>()
    const stack = [...a.after]
    while (stack.length > 0) {
      const id = stack.pop() as string
      if (seen.has(id)) continue
      seen.add(id)
      stack.push(...(after.get(id) ?? []))
    }
    out.set(a.id, seen)
  }
  return out
}

/** Subset, then prefix, then partial order, each over the whole applied sequence. */
export function bruteTests (spec: VmSpec, applied: string[]): BruteVerdict {
  const anc = ancestorsOf(spec)
  const inG = applied.every((id) => anc.has(id)) && new Set(applied).size === applied.length
  if (!inG) return 'subset'
  const set = new Set(applied)
  if (!applied.every((id) => [...(anc.get(id) ?? [])].every((d) => set.has(d)))) return 'prefix'
  for (let i = 0; i < applied.length; i++) {
    for (let j = i + 1; j < applied.length; j++) {
      // the DAG wants applied[j] before applied[i]
      if (anc.get(applied[i] as string)?.has(applied[j] as string) === true) return 'partial-order'
    }
  }
  return true
}

export interface BruteHardware { arch: string, os: string, memoryMB: number, diskMB: number }

/** Hardware first, then the three tests. */
export function bruteAdmissible (spec: VmSpec, hardware: BruteHardware, applied: string[]): BruteVerdict {
  const want = spec.hardware
  if (hardware.memoryMB !== want.memoryMB || hardware.arch !== want.arch || hardware.os !== want.os) return 'hardware'
  if (want.diskMB !== undefined && hardware.diskMB < want.diskMB) return 'hardware'
  return bruteTests(spec, applied)
}
