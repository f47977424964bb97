/**
 * The long fuzz pass: `node dist/test/fuzz/run.js [--runs 100000] [--target NAME]... [--seed N] [--keep] [--max-seconds S] [--edges]`.
 * `--edges` adds the real-network edges (two libp2p nodes on 127.0.0.1; `--target edge-vm` alone does too).
 * Replays each target's corpus, then runs its generated inputs; prints one line per target and,
 * for a failure, its shrunk counterexample and seed. `--keep` writes each counterexample into
 * test/fuzz/corpus/<target>/ so that every later run (and `npm test`) replays it. `--max-seconds`
 * caps each target's generated inputs by time (the line then says how many ran).
 */
import { parseArgs } from 'node:util'
import { describeFailure, fuzzPass, keepInCorpus } from './harness.js'
import { loadTargets } from './targets/index.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    'max-seconds': { type: 'string' },
    keep: { type: 'boolean', default: false },
    edges: { type: 'boolean', default: false }
  }
})
// the YAML parser warns of every unresolved tag a mutation makes up: the refusals are what count
process.removeAllListeners('warning')
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 0) throw new RangeError(`--runs must be a whole number, not ${values.runs}`)

// the edges start two libp2p nodes: only when one of them is asked for, or with --edges
const edges = values.edges === true || (values.target ?? []).some((name) => name.startsWith('edge-'))
const { targets, close } = await loadTargets(['wire', 'documents', 'classad', ...(edges ? ['edges' as const] : [])])
// a run stopped early still removes the folder the document targets write in
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { close().finally(() => process.exit(130)) })
let failed = 0
const started = performance.now()
try {
  const chosen = values.target === undefined ? targets : targets.filter((t) => values.target?.includes(t.name))
  const unknown = (values.target ?? []).filter((name) => !targets.some((t) => t.name === name))
  if (unknown.length > 0) throw new RangeError(`no fuzz target named ${unknown.join(', ')}; there are ${targets.map((t) => t.name).join(', ')}`)
  console.log(`fuzzing ${chosen.length} targets, ${runs} inputs each, on node ${process.version}`)
  for (const target of chosen) {
    const result = await fuzzPass(target, { runs, ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}), ...(values['max-seconds'] !== undefined ? { maxMs: Number(values['max-seconds']) * 1000 } : {}) })
    const line = `${target.name.padEnd(14)} ${String(result.corpus).padStart(4)} corpus + ${String(result.runs).padStart(7)} generated${result.runs < runs ? ` (time limit, of ${runs})` : ''}: ${result.accepted} accepted, ${result.refused} refused clearly, ${(result.ms / 1000).toFixed(1)} s`
    if (result.failure === undefined) {
      console.log(line)
      continue
    }
    failed++
    console.log(`${line}\nFAILED ${describeFailure(result)}`)
    if (values.keep) console.log(`  kept as ${await keepInCorpus(target.corpus ?? target.name, result.failure.input)}`)
  }
} finally {
  await close()
}
console.log(`${failed === 0 ? 'no failures' : `${failed} targets failed`} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
process.exitCode = failed === 0 ? 0 : 1
