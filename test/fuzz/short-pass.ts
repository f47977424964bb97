import type { ExecutionContext } from 'ava'
import { describeFailure, fuzzPass, type FuzzTarget } from './harness.js'

/** inputs per target in `npm test`; the long pass is `node dist/test/fuzz/run.js --runs 100000` */
export const SHORT_RUNS = Number(process.env.FUZZ_RUNS ?? 300)

/**
 * The seed of the short pass: fixed, so that `npm test` is the same every time; set FUZZ_SEED
 * to explore (a failure prints its seed and counterexample, to keep in the corpus).
 */
export const SHORT_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20261130

/** one ava test's body: the target's corpus, then the short pass */
export async function shortPass (t: ExecutionContext, target: FuzzTarget, runs = SHORT_RUNS): Promise<void> {
  const result = await fuzzPass(target, { runs, seed: SHORT_SEED })
  t.log(`${result.corpus} corpus + ${result.runs} generated: ${result.accepted} accepted, ${result.refused} refused clearly, ${Math.round(result.ms)} ms`)
  if (result.failure !== undefined) t.fail(describeFailure(result))
  else t.true(result.corpus > 0, `target ${target.name} has no corpus under test/fuzz/corpus/${target.corpus ?? target.name}/`)
}
