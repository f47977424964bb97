import { chooseImage, type Plan, type WarehouseImage, type WarehouseIndex } from './match.js'
import { compileRequest, hasBit, type CompiledRequest } from './request.js'
import type { VmSpec } from './spec.js'

/** The checks an image goes through, in the order they are made. */
export type MatchTest = 'hardware' | 'subset' | 'ambiguous' | 'prefix' | 'partial-order'

/** Why an image can or cannot serve a request. */
export type Verdict =
  | { image: WarehouseImage, admissible: true, /** ids of the request's actions it has, in applied order */ cloned: string[] }
  | { image: WarehouseImage, admissible: false, /** the first test it failed */ test: MatchTest, reason: string }

/** What `vmplant plan` shows: the plan, and a verdict for every image. */
export interface Explanation {
  plan: Plan | undefined
  /** the chosen image first, then the other admissible ones by actions saved, then the rejected ones */
  verdicts: Verdict[]
}

/**
 * Tests one image the way the paper states the tests, one after the other (hardware, subset,
 * prefix, partial order), and says which failed first and why. Slower than `chooseImage` but
 * agrees with it; `ambiguous` is this planner's addition (see `IdentityGroup`).
 */
export function explainImage (request: CompiledRequest, image: WarehouseImage): Verdict {
  const reject = (test: MatchTest, reason: string): Verdict => ({ image, admissible: false, test, reason })
  const want = request.spec.hardware
  const have = image.descriptor.hardware
  if (have.memoryMB !== want.memoryMB) return reject('hardware', `memory is ${have.memoryMB} MB, the request wants ${want.memoryMB} MB`)
  if (have.arch !== want.arch) return reject('hardware', `arch is ${have.arch}, the request wants ${want.arch}`)
  if (have.os !== want.os) return reject('hardware', `OS is ${have.os}, the request wants ${want.os}`)
  if (want.diskMB !== undefined && have.diskMB < want.diskMB) return reject('hardware', `disk is ${have.diskMB} MB, the request wants at least ${want.diskMB} MB`)

  const { actions, groups, groupOf, words, ancestors } = request
  const name = (i: number): string => `"${actions[i]?.id ?? '?'}"`
  const applied = image.descriptor.applied
  // subset: map the k-th application of an identity to the k-th request action having it
  const seen = new Map<string, number>()
  const mapped: number[] = []
  let ambiguous: string | undefined
  for (const [i, identity] of applied.entries()) {
    const group = groups[groupOf.get(identity) ?? -1]
    if (group === undefined) return reject('subset', `applied action #${i + 1} (${identity.slice(0, 12)}) is not in the request`)
    const k = seen.get(identity) ?? 0
    seen.set(identity, k + 1)
    if (k >= group.chain.length) return reject('subset', `applied action #${i + 1} is ${name(group.chain[0] as number)} again; the request has it ${group.chain.length} time(s)`)
    if (group.ambiguous !== undefined && ambiguous === undefined) {
      const [a, b] = group.ambiguous
      ambiguous = `applied action #${i + 1} could be ${name(a)} or ${name(b)}: they have the same definition and neither comes after the other`
    }
    mapped.push(group.chain[k] as number)
  }
  if (ambiguous !== undefined) return reject('ambiguous', ambiguous)

  const position = new Map(mapped.map((a, i) => [a, i]))
  for (const a of mapped) {
    for (let d = 0; d < actions.length; d++) {
      if (hasBit(ancestors, a * words, d) && !position.has(d)) return reject('prefix', `${name(a)} was applied but ${name(d)}, which comes before it, was not`)
    }
  }
  for (const [i, a] of mapped.entries()) {
    for (let j = i + 1; j < mapped.length; j++) {
      const b = mapped[j] as number
      if (hasBit(ancestors, a * words, b)) return reject('partial-order', `${name(a)} was applied before ${name(b)}, but the request runs ${name(b)} first`)
    }
  }
  return { image, admissible: true, cloned: mapped.map((i) => actions[i]?.id as string) }
}

/** The plan for a request and a verdict on every image of the warehouse. */
export function explainPlan (request: CompiledRequest | VmSpec, index: WarehouseIndex): Explanation {
  const req = 'groupOf' in request ? request : compileRequest(request)
  const plan = chooseImage(req, index)
  const rank = (v: Verdict): number => v.image === plan?.image ? Infinity : v.admissible ? v.cloned.length : -1
  const verdicts = index.images.map((image) => explainImage(req, image)).sort((a, b) => rank(b) - rank(a))
  return { plan, verdicts }
}

/** `explainPlan`'s answer as lines of text for a terminal. */
export function formatExplanation (explanation: Explanation): string[] {
  const { plan, verdicts } = explanation
  const lines: string[] = []
  if (plan === undefined) {
    lines.push('no golden image can serve this request')
  } else {
    lines.push(`image   ${plan.image.id}`)
    lines.push(`cloned  ${plan.cloned.map((a) => a.id).join(', ') || '(none)'}`)
    lines.push(`run     ${plan.remaining.map((a) => a.id).join(', ') || '(none)'}`)
  }
  for (const v of verdicts) {
    if (v.image === plan?.image) continue
    lines.push(v.admissible ? `  ${v.image.id}  admissible, saves ${v.cloned.length}` : `  ${v.image.id}  fails ${v.test}: ${v.reason}`)
  }
  return lines
}
