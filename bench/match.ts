/**
 * How long the planner takes to choose a golden image for a 30-action DAG from a warehouse of
 * 10,000 images (issue 4: target p50 under 2 ms). Run: `npx tsc -p . && node dist/bench/match.js`.
 * Each timed run compiles the request (identities, bitsets) and walks the index; building the
 * index happens once per warehouse change and is reported apart.
 */
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { chooseImage, compileRequest, createDescriptor, goldenId, indexWarehouse, validateSpec, type ActionSpec, type ImageHardware, type VmSpec, type WarehouseImageInit } from '../src/planner/index.js'

const ACTIONS = 30
const IMAGES = 10_000
const WARMUP = 300
const RUNS = 3000

/** mulberry32: a small seeded generator, so every run of the bench sees the same warehouse. */
function random (seed: number): () => number {
  return () => {
    seed = (seed + 0x6D2B79F5) | 0
    let t = seed
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rnd = random(42)
const int = (n: number): number => Math.floor(rnd() * n)

const REQUEST_HW: ImageHardware = { arch: 'x86_64', os: 'linux', memoryMB: 512, diskMB: 8192 }

/** A layered DAG: each action after one to three earlier ones, like an install then configure chain. */
function requestSpec (): VmSpec {
  const actions = Array.from({ length: ACTIONS }, (_, i) => {
    const after = i === 0 ? [] : [...new Set(Array.from({ length: 1 + int(3) }, () => `act${int(i)}`))]
    return { id: `act${i}`, run: `configure step ${i} --with-options ${i * 7919}`, after }
  })
  const { arch, os, memoryMB } = REQUEST_HW
  return validateSpec({ hardware: { arch, os, memoryMB, diskMB: 4096 }, actions })
}

const FOREIGN: ActionSpec[] = validateSpec({
  hardware: { memoryMB: 256, os: 'linux' },
  actions: Array.from({ length: 200 }, (_, i) => ({ id: `other${i}`, run: `unrelated step ${i}` }))
}).actions

/** A random linear extension of the request's DAG, cut at a random length. */
function extensionPrefix (spec: VmSpec): ActionSpec[] {
  const done = new Set<string>()
  const out: ActionSpec[] = []
  const take = int(ACTIONS + 1)
  while (out.length < take) {
    const ready = spec.actions.filter((a) => !done.has(a.id) && a.after.every((d) => done.has(d)))
    const next = ready[int(ready.length)] as ActionSpec
    done.add(next.id)
    out.push(next)
  }
  return out
}

/** A prefix of 20 or more of the request's actions and then one that is not ready: fails on the last step. */
function notReadyAtEnd (spec: VmSpec): ActionSpec[] {
  for (;;) {
    const seq = extensionPrefix(spec)
    const done = new Set(seq.map((a) => a.id))
    const blocked = spec.actions.filter((a) => !done.has(a.id) && a.after.some((d) => !done.has(d)))
    if (seq.length >= 20 && blocked.length > 0) return [...seq, blocked[int(blocked.length)] as ActionSpec]
  }
}

/** Spoils a sequence the way real warehouses differ from a request: a foreign step, a swap, a dropped step. */
function perturb (seq: ActionSpec[]): ActionSpec[] {
  const out = [...seq]
  const roll = rnd()
  if (out.length === 0) return out
  const i = int(out.length)
  if (roll < 0.4) out.splice(i, 0, FOREIGN[int(FOREIGN.length)] as ActionSpec)
  else if (roll < 0.7 && i + 1 < out.length) [out[i], out[i + 1]] = [out[i + 1] as ActionSpec, out[i] as ActionSpec]
  else out.splice(i, 1)
  return out
}

function image (applied: ActionSpec[], hardware: ImageHardware, n: number): WarehouseImageInit {
  const descriptor = createDescriptor({ line: 'qemu', hardware, applied, artifacts: [{ name: 'disk.qcow2', sha256: n.toString(16).padStart(64, '0'), bytes: 1e9 + n }] })
  return { id: goldenId(descriptor), descriptor, cloneCost: 1 + int(100) }
}

const HARDWARE: ImageHardware[] = [256, 512, 1024, 2048].flatMap((memoryMB) => ['linux', 'freebsd'].map((os) => ({ ...REQUEST_HW, os, memoryMB })))

interface Scenario { name: string, images: () => WarehouseImageInit[] }

function scenarios (spec: VmSpec): Scenario[] {
  return [
    {
      // images spread over 8 hardware kinds; half derived from the request, half unrelated
      name: 'mixed hardware, half related',
      images: () => Array.from({ length: IMAGES }, (_, n) => {
        const seq = rnd() < 0.5 ? perturb(extensionPrefix(spec)) : Array.from({ length: int(20) }, () => FOREIGN[int(FOREIGN.length)] as ActionSpec)
        return image(seq, HARDWARE[int(HARDWARE.length)] as ImageHardware, n)
      })
    },
    {
      // every image has the request's hardware and is a prefix of a linear extension of its DAG, a third spoiled
      name: 'same hardware, all related',
      images: () => Array.from({ length: IMAGES }, (_, n) => {
        const seq = extensionPrefix(spec)
        return image(rnd() < 0.33 ? perturb(seq) : seq, REQUEST_HW, n)
      })
    },
    {
      // worst case for pruning: same hardware, short admissible prefixes only, no image clones much
      name: 'same hardware, short prefixes',
      images: () => Array.from({ length: IMAGES }, (_, n) => image(extensionPrefix(spec).slice(0, 1 + int(6)), REQUEST_HW, n))
    },
    {
      // 100 build recipes (a long base from the request, then their own steps), 100 images cut from each
      name: 'same hardware, 100 recipes',
      images: () => Array.from({ length: 100 }, () => {
        const recipe = [...extensionPrefix(spec).slice(0, 10 + int(15)), ...Array.from({ length: 10 }, () => FOREIGN[int(FOREIGN.length)] as ActionSpec)]
        return Array.from({ length: 100 }, () => recipe.slice(0, 1 + int(recipe.length)))
      }).flat().map((seq, n) => image(seq, REQUEST_HW, n))
    },
    {
      // adversarial: long prefixes that all end in a foreign step, so no subtree can be ruled out early
      name: 'adversarial: all fail at the end',
      images: () => [
        image([], REQUEST_HW, 0),
        ...Array.from({ length: IMAGES - 1 }, (_, n) => image([...extensionPrefix(spec).slice(0, 20 + int(11)), FOREIGN[int(FOREIGN.length)] as ActionSpec], REQUEST_HW, n + 1))
      ]
    },
    {
      // adversarial: long prefixes of the request's own actions, then one whose predecessor is missing
      name: 'adversarial: all skip a step at the end',
      images: () => [
        image([], REQUEST_HW, 0),
        ...Array.from({ length: IMAGES - 1 }, (_, n) => image(notReadyAtEnd(spec), REQUEST_HW, n + 1))
      ]
    }
  ]
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
}

const spec = requestSpec()
const rows: string[][] = [['scenario', 'index ms', 'p50 ms', 'p99 ms', 'max ms', 'saves']]
for (const { name, images } of scenarios(spec)) {
  const warehouse = images()
  const t0 = performance.now()
  const index = indexWarehouse(warehouse)
  const indexMs = performance.now() - t0
  const times: number[] = []
  let saves = 0
  for (let run = 0; run < WARMUP + RUNS; run++) {
    const start = performance.now()
    const plan = chooseImage(compileRequest(spec), index)
    const ms = performance.now() - start
    if (run >= WARMUP) times.push(ms)
    saves = plan?.cloned.length ?? -1
  }
  times.sort((a, b) => a - b)
  rows.push([name, indexMs.toFixed(0), percentile(times, 0.5).toFixed(3), percentile(times, 0.99).toFixed(3), (times.at(-1) ?? 0).toFixed(3), String(saves)])
}

console.log(`choose an image for a ${ACTIONS}-action DAG among ${IMAGES} images, ${RUNS} runs each (node ${process.version}, load ${loadavg()[0]?.toFixed(1) ?? '?'})`)
const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)))
for (const row of rows) console.log(row.map((cell, c) => c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number)).join('  '))
