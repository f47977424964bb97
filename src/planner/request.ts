import { actionIdentity } from './identity.js'
import { topologicalOrder, type ActionSpec, type VmSpec } from './spec.js'

/**
 * The actions of a request that share one identity. Several actions with the same definition
 * are fine when the DAG orders them (the k-th time an image applied it maps to the k-th of
 * them); when two of them are unordered the image's sequence cannot be mapped back, and images
 * that applied that identity are refused (see `ambiguous`).
 */
export interface IdentityGroup {
  identity: string
  /** indices into `CompiledRequest.actions`, each an ancestor of the next */
  chain: number[]
  /** two actions with this identity that neither comes after the other */
  ambiguous?: [number, number]
}

/**
 * A request prepared for matching once, then tested against many images: identities,
 * predecessor and ancestor bitsets (so a test is a few word operations) and a topological order.
 */
export interface CompiledRequest {
  spec: VmSpec
  actions: ActionSpec[]
  /** `identities[i]` is `actionIdentity(actions[i])` */
  identities: string[]
  groups: IdentityGroup[]
  /** identity to index into `groups` */
  groupOf: Map<string, number>
  /** 32-bit words per bitset */
  words: number
  /** direct predecessors of action i: words [i*words, (i+1)*words) */
  preds: Uint32Array
  /** all ancestors of action i, laid out like `preds` */
  ancestors: Uint32Array
  /** indices of the actions in a topological order, stable with respect to the spec */
  order: number[]
}

/**
 * Compiles a validated spec for matching. `identities` may be given when only the DAG's shape and
 * its actions' identities are known (a call for bids carries no scripts).
 */
export function compileRequest (spec: VmSpec, identities?: string[]): CompiledRequest {
  const actions = spec.actions
  const n = actions.length
  const words = Math.max(1, Math.ceil(n / 32))
  const index = new Map(actions.map((a, i) => [a.id, i]))
  const preds = new Uint32Array(n * words)
  actions.forEach((a, i) => {
    for (const dep of a.after) setBit(preds, i * words, index.get(dep) as number)
  })
  const order = topologicalOrder(actions).map((a) => index.get(a.id) as number)
  const ancestors = new Uint32Array(n * words)
  for (const i of order) {
    for (const dep of actions[i]?.after ?? []) {
      const d = index.get(dep) as number
      setBit(ancestors, i * words, d)
      for (let w = 0; w < words; w++) ancestors[i * words + w] = (ancestors[i * words + w] as number) | (ancestors[d * words + w] as number)
    }
  }
  if (identities !== undefined && identities.length !== n) throw new Error(`${identities.length} identities for ${n} actions`)
  identities ??= actions.map(actionIdentity)
  const groupOf = new Map<string, number>()
  const groups: IdentityGroup[] = []
  identities.forEach((identity, i) => {
    const g = groupOf.get(identity)
    if (g === undefined) {
      groupOf.set(identity, groups.length)
      groups.push({ identity, chain: [i] })
    } else {
      (groups[g] as IdentityGroup).chain.push(i)
    }
  })
  const ancestorCount = (i: number): number => popcount(ancestors, i * words, words)
  for (const group of groups) {
    if (group.chain.length < 2) continue
    group.chain.sort((a, b) => ancestorCount(a) - ancestorCount(b))
    for (let k = 1; k < group.chain.length; k++) {
      const a = group.chain[k - 1] as number
      const b = group.chain[k] as number
      if (!hasBit(ancestors, b * words, a)) { group.ambiguous = [a, b]; break }
    }
  }
  return { spec, actions, identities, groups, groupOf, words, preds, ancestors, order }
}

/** Sets bit `bit` of the bitset starting at word `base`. */
export function setBit (set: Uint32Array, base: number, bit: number): void {
  set[base + (bit >>> 5)] = (set[base + (bit >>> 5)] as number) | (1 << (bit & 31))
}

/** Clears bit `bit` of the bitset starting at word `base`. */
export function clearBit (set: Uint32Array, base: number, bit: number): void {
  set[base + (bit >>> 5)] = (set[base + (bit >>> 5)] as number) & ~(1 << (bit & 31))
}

/** Whether bit `bit` of the bitset starting at word `base` is set. */
export function hasBit (set: Uint32Array, base: number, bit: number): boolean {
  return (((set[base + (bit >>> 5)] as number) >>> (bit & 31)) & 1) === 1
}

function popcount (set: Uint32Array, base: number, words: number): number {
  let count = 0
  for (let w = 0; w < words; w++) {
    let x = set[base + w] as number
    while (x !== 0) { x &= x - 1; count++ }
  }
  return count
}
