import { createHash } from 'node:crypto'
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'

/** One thing under fuzz: bytes in (a frame, a document), and the behaviour every input must show. */
export interface FuzzTarget {
  /** also the name of its corpus folder, test/fuzz/corpus/<name>/ */
  name: string
  /** generated inputs: mutations of valid seeds, random JSON, random bytes */
  inputs: fc.Arbitrary<Uint8Array>
  /**
   * Runs the input through the module under test. Resolves when it was accepted (after checking
   * what was accepted), throws FuzzFailure when the behaviour is wrong; any other throw is a
   * refusal, which `errors` must allow.
   */
  run: (input: Uint8Array) => Promise<void> | void
  /** the error classes a refusal may be, each with what its message must say to be clear */
  errors: ErrorRule[]
  /** the corpus folder it replays, under test/fuzz/corpus/; @default name */
  corpus?: string
  /**
   * each input must be settled within this, in wall-clock time on a shared machine: generous, since
   * a real hang lasts far longer; @default 5000
   */
  deadlineMs?: number
}

export interface ErrorRule {
  type: abstract new (...args: any[]) => Error
  /** the message names what is wrong: a field, a limit, a key, a signature */
  clear: RegExp
}

/** The module under test behaved wrongly: crashed, hung, accepted what it should not, or said nothing clear. */
export class FuzzFailure extends Error {
  static override name = 'FuzzFailure'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = FuzzFailure.name
  }
}

export type Outcome = 'accepted' | 'refused'

/** Runs one input and judges it; throws FuzzFailure naming what went wrong. */
export async function judge (target: FuzzTarget, input: Uint8Array): Promise<Outcome> {
  const deadlineMs = target.deadlineMs ?? 5000
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  let outcome: Outcome
  try {
    await Promise.race([
      Promise.resolve().then(async () => { await target.run(input) }),
      new Promise((_resolve, reject) => { timer = setTimeout(() => { reject(new FuzzFailure(`${target.name}: no answer within ${deadlineMs} ms (a hang)`)) }, deadlineMs) })
    ])
    outcome = 'accepted'
  } catch (err: any) {
    if (err instanceof FuzzFailure) throw err
    const rule = target.errors.find((r) => err instanceof r.type)
    if (rule === undefined) throw new FuzzFailure(`${target.name}: crashed with ${err?.name ?? typeof err}: ${err?.message ?? String(err)}`, { cause: err })
    if (typeof err.message !== 'string' || err.message.trim() === '') throw new FuzzFailure(`${target.name}: ${err.name} with an empty message`, { cause: err })
    if (!rule.clear.test(err.message)) throw new FuzzFailure(`${target.name}: unclear ${err.name}: "${err.message.slice(0, 300)}" does not match ${String(rule.clear)}`, { cause: err })
    outcome = 'refused'
  } finally {
    clearTimeout(timer)
  }
  // a synchronous loop cannot be interrupted in-process, so it is judged once it returns
  const took = performance.now() - started
  if (took > deadlineMs) throw new FuzzFailure(`${target.name}: took ${Math.round(took)} ms, over its deadline of ${deadlineMs} ms`)
  return outcome
}

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fuzz', 'corpus')

/** The corpus of one target: every file under corpus/<name>/, raw bytes (.bin, .json, .yaml, .txt). */
export async function readCorpus (name: string, dir = CORPUS_DIR): Promise<Array<{ file: string, bytes: Uint8Array }>> {
  const folder = join(dir, name)
  let files: string[]
  try {
    files = (await readdir(folder)).sort()
  } catch (err: any) {
    if (err?.code === 'ENOENT') return []
    throw err
  }
  return await Promise.all(files.map(async (file) => ({ file: join(folder, file), bytes: new Uint8Array(await readFile(join(folder, file))) })))
}

/** Keeps a counterexample in the corpus, named by its hash, so that every later run replays it. */
export async function keepInCorpus (name: string, bytes: Uint8Array, dir = CORPUS_DIR): Promise<string> {
  const file = join(dir, name, `found-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.bin`)
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, bytes)
  return file
}

export interface PassResult {
  target: string
  corpus: number
  runs: number
  accepted: number
  refused: number
  ms: number
  /** the failure, with its minimal counterexample, if any */
  failure?: { message: string, input: Uint8Array, seed: number, path?: string }
}

export interface PassOptions {
  runs: number
  /** stops generating after this long (the corpus is always replayed); the result says how many ran */
  maxMs?: number
  seed?: number
  corpusDir?: string
}

/** Replays the target's corpus, then `runs` generated inputs; stops at the first failure (shrunk). */
export async function fuzzPass (target: FuzzTarget, options: PassOptions): Promise<PassResult> {
  const started = performance.now()
  const result: PassResult = { target: target.name, corpus: 0, runs: 0, accepted: 0, refused: 0, ms: 0 }
  const count = (outcome: Outcome): void => { if (outcome === 'accepted') result.accepted++; else result.refused++ }
  for (const entry of await readCorpus(target.corpus ?? target.name, options.corpusDir)) {
    try {
      count(await judge(target, entry.bytes))
      result.corpus++
    } catch (err: any) {
      result.failure = { message: `corpus ${entry.file}: ${err?.message}`, input: entry.bytes, seed: options.seed ?? 0 }
      result.ms = performance.now() - started
      return result
    }
  }
  const seed = options.seed ?? Date.now() % 0x7fffffff
  const details = await fc.check(fc.asyncProperty(target.inputs, async (input) => {
    count(await judge(target, input))
  }), { numRuns: options.runs, seed, endOnFailure: false, ...(options.maxMs !== undefined ? { interruptAfterTimeLimit: options.maxMs, markInterruptAsFailure: false } : {}) })
  result.runs = details.numRuns
  if (details.failed) {
    const input = details.counterexample?.[0] ?? new Uint8Array()
    const err = details.errorInstance as any
    result.failure = { message: err?.message ?? String(err), input, seed, ...(details.counterexamplePath !== null ? { path: details.counterexamplePath } : {}) }
  }
  result.ms = performance.now() - started
  return result
}

/** A failure's report: what went wrong, how to replay it, and the input (as text when it is). */
export function describeFailure (result: PassResult): string {
  const f = result.failure
  if (f === undefined) return `${result.target}: ok`
  let shown: string
  try {
    shown = new TextDecoder('utf-8', { fatal: true }).decode(f.input).slice(0, 2000)
  } catch {
    shown = `0x${Buffer.from(f.input.subarray(0, 1000)).toString('hex')}`
  }
  return `${result.target}: ${f.message}\n  seed ${f.seed}${f.path !== undefined ? ` path ${f.path}` : ''}\n  input (${f.input.byteLength} bytes): ${shown}`
}
