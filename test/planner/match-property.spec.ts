import test from 'ava'
import fc from 'fast-check'
import { chooseImage, compileRequest, explainImage, indexWarehouse, type ActionSpec, type VmSpec } from '../../src/planner/index.js'
import { bruteAdmissible, bruteTests } from './brute.js'
import { makeDescriptor, makeSpec, ids, type ActionShort } from './helpers.js'

const FOREIGN = ['x0', 'x1']

/** A random DAG of `min`..`max` actions, listed in an order unrelated to the DAG's. */
const dagOf = (min: number, max: number, density = 0.5): fc.Arbitrary<VmSpec> => fc.integer({ min, max }).chain((n) => fc.record({
  rank: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
  edges: fc.array(fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x < density), { minLength: n * n, maxLength: n * n }),
  listing: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })
}).map(({ rank, edges, listing }) => {
  // an edge only from lower to higher rank, so no cycle
  const actions: ActionShort[] = listing.map((i) => [`a${i}`, `echo ${i}`, rank.flatMap((j) => (rank[j] as number) < (rank[i] as number) && edges[j * n + i] === true ? [`a${j}`] : [])])
  return makeSpec(actions)
}))
const dagArb = dagOf(1, 8)

/** Actions an image may have applied: the request's and some it does not have. */
function universe (spec: VmSpec): ActionSpec[] {
  return [...spec.actions, ...makeSpec(FOREIGN.map((id): ActionShort => [id, `echo ${id}`])).actions]
}

/** A random sequence, or a random prefix of a random linear extension (admissible by construction) with maybe one swap. */
function appliedArb (spec: VmSpec): fc.Arbitrary<string[]> {
  const pool = ids(universe(spec))
  const random = fc.array(fc.constantFrom(...pool), { maxLength: spec.actions.length + 1 })
  const extension = fc.record({
    priority: fc.array(fc.integer(), { minLength: spec.actions.length, maxLength: spec.actions.length }),
    take: fc.nat({ max: spec.actions.length }),
    swap: fc.option(fc.nat(), { nil: undefined })
  }).map(({ priority, take, swap }) => {
    const done: string[] = []
    const left = spec.actions.map((a, i) => ({ a, p: priority[i] as number }))
    while (done.length < take) {
      const ready = left.filter(({ a }) => a.after.every((d) => done.includes(d))).sort((x, y) => x.p - y.p)[0]
      if (ready === undefined) break
      done.push(ready.a.id)
      left.splice(left.indexOf(ready), 1)
    }
    if (swap !== undefined && done.length > 1) {
      const i = swap % (done.length - 1)
      ;[done[i], done[i + 1]] = [done[i + 1] as string, done[i] as string]
    }
    return done
  })
  return fc.oneof(random, extension)
}

const caseArb = (dags: fc.Arbitrary<VmSpec>): fc.Arbitrary<{ spec: VmSpec, applied: string[] }> => dags.chain((spec) => fc.record({ spec: fc.constant(spec), applied: appliedArb(spec) }))

/** The matcher's and explain's answers for one image against the brute force. */
function agrees ({ spec, applied }: { spec: VmSpec, applied: string[] }): boolean {
    const expected = bruteTests(spec, applied)
    const image = { id: 'img', descriptor: makeDescriptor(universe(spec), applied), cloneCost: 1 }
    const plan = chooseImage(spec, indexWarehouse([image]))
    const verdict = explainImage(compileRequest(spec), { ...image })
    if (expected !== true) return plan === undefined && !verdict.admissible && verdict.test === expected
    if (plan === undefined || !verdict.admissible) return false
    const order = ids(plan.remaining)
    const topological = plan.remaining.every((a, i) => a.after.every((d) => applied.includes(d) || order.slice(0, i).includes(d)))
    return ids(plan.cloned).join() === applied.join() && verdict.cloned.join() === applied.join() &&
      topological && [...applied, ...order].sort().join() === ids(spec.actions).sort().join()
}

test('the matcher and explain agree with a brute-force reading of the three tests', (t) => {
  t.notThrows(() => { fc.assert(fc.property(caseArb(dagArb), agrees), { numRuns: 2000 }) })
})

test('the matcher agrees with the brute force on DAGs of more than 32 actions', (t) => {
  t.notThrows(() => { fc.assert(fc.property(caseArb(dagOf(33, 48, 0.08)), agrees), { numRuns: 150 }) })
})

const hardwareArb = fc.record({
  arch: fc.constantFrom('x86_64', 'aarch64'),
  os: fc.constantFrom('linux', 'linux', 'freebsd'),
  memoryMB: fc.constantFrom(256, 256, 512),
  diskMB: fc.constantFrom(1000, 4096, 8192)
})

const warehouseCaseArb = dagArb.chain((spec) => fc.record({
  spec: fc.constant(spec),
  diskMB: fc.option(fc.constantFrom(2000, 4096), { nil: undefined }),
  images: fc.array(fc.record({ applied: appliedArb(spec), hardware: hardwareArb, cost: fc.nat({ max: 3 }) }), { maxLength: 12 })
}))

test('the chosen image saves the most actions among admissible ones, then costs least, then has the smallest id', (t) => {
  t.notThrows(() => fc.assert(fc.property(warehouseCaseArb, ({ spec: base, diskMB, images }) => {
    const spec: VmSpec = { ...base, hardware: { ...base.hardware, diskMB } }
    const entries = images.map((img, i) => ({ id: `img${String(i).padStart(2, '0')}`, descriptor: makeDescriptor(universe(spec), img.applied, img.hardware), cloneCost: img.cost }))
    const admissible = images.map((img, i) => ({ i, ok: bruteAdmissible(spec, img.hardware, img.applied) === true, saves: img.applied.length, cost: img.cost }))
      .filter((x) => x.ok)
    const plan = chooseImage(spec, indexWarehouse(entries))
    if (admissible.length === 0) return plan === undefined
    if (plan === undefined) return false
    const chosen = admissible.find((x) => entries[x.i]?.id === plan.image.id)
    if (chosen === undefined) return false
    const id = (x: { i: number }): string => entries[x.i]?.id ?? ''
    return admissible.every((x) => x.saves < chosen.saves || (x.saves === chosen.saves && (x.cost > chosen.cost || (x.cost === chosen.cost && id(x) >= id(chosen)))))
  }), { numRuns: 1000 }))
})
