/**
 * bench/cli: how quickly the command line starts and answers, as ratios to a bare `node -e 0`
 * measured in the same run (issue 12: `--help` within 3x, `query` under 300 ms on loopback).
 * Each round runs, in turn: `node -e 0`, `vmplant --help`, `vmplant query` (with the program's and
 * the client's bundles when fresh, else the modules) and `vmplant query` with VMPLANT_NO_BUNDLE=1
 * (the same code as ~600 separate modules), against a shop and one sim plant in this process, each
 * a new process timed from spawn to exit. --compare BIN adds `--help` and `query` of another
 * checkout's bin/vmplant.js (e.g. the commit before), against the same shop.
 * Usage: node dist/bench/cli.js [--runs 20] [--compare /path/to/old/bin/vmplant.js]
 */
import { parseArgs } from 'node:util'
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { cpus, loadavg, hostname } from 'node:os'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedFederation } from '../src/daemon/embedded.js'
import { bundleIsFresh } from '../src/cli/bundled.js'
import { packageRoot } from '../src/paths.js'
import { summarize, type Summary } from './stats.js'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, compare: { type: 'string' } } })
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number >= 1, not ${values.runs}`)

const bin = join(packageRoot, 'bin', 'vmplant.js')
/** scripts/bundle-cli.mjs's: the program (commander, the commands) and the client commands' implementation */
const BUNDLES = ['dist/src/cli/commands/program.bundle.cjs', 'dist/src/cli/actions/client-actions.bundle.cjs']

/** one process, spawn to exit, in ms; a non-zero exit is an error naming what it printed */
async function timed (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ ms: number, out: string }> {
  const started = performance.now()
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let out = ''
  let err = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr.on('data', (c: Buffer) => { err += c.toString() })
  const code = await new Promise<number | null>((resolve) => { child.on('exit', resolve) })
  const ms = performance.now() - started
  if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code}: ${err}`)
  return { ms, out }
}

const dir = await mkdtemp(join(tmpdir(), 'vmplant-bench-cli-'))
const federation = await startEmbeddedFederation({ plants: 1, dataDir: join(dir, 'fed') })
try {
  await federation.ready()
  const key = join(dir, 'client.key')
  const created = await timed([bin, 'create', '--shop', federation.shopAddr, '--spec', join(packageRoot, 'config', 'demo-spec.yaml'), '--key', key, '--json'])
  const vmid = JSON.parse(created.out).classad.vmid as string
  const query = ['query', '--shop', federation.shopAddr, '--key', key, vmid]
  const cases: Array<{ name: string, argv: string[], env?: NodeJS.ProcessEnv }> = [
    { name: 'node -e 0', argv: ['-e', '0'] },
    { name: 'vmplant --help', argv: [bin, '--help'] },
    { name: `vmplant query (${BUNDLES.every((b) => bundleIsFresh(b)) ? 'bundles' : 'modules: no fresh bundles'})`, argv: [bin, ...query] },
    { name: 'vmplant query (modules)', argv: [bin, ...query], env: { VMPLANT_NO_BUNDLE: '1' } }
  ]
  if (values.compare !== undefined) {
    cases.push({ name: 'compare: --help', argv: [values.compare, '--help'] }, { name: 'compare: query', argv: [values.compare, ...query] })
  }
  // one warm-up of each (the page cache), then the rounds, each case once a round so that all share the machine's load
  for (const c of cases) await timed(c.argv, c.env)
  const load = loadavg()[0] as number
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]))
  for (let i = 0; i < runs; i++) {
    for (const c of cases) samples.get(c.name)?.push((await timed(c.argv, c.env)).ms)
  }
  const loadAfter = loadavg()[0] as number
  const base = summarize(samples.get('node -e 0') ?? [])
  const row = (name: string, s: Summary): string => `| ${name} | ${s.p50.toFixed(0)} | ${s.p99.toFixed(0)} | ${(s.p50 / base.p50).toFixed(2)}x | ${(s.p99 / base.p99).toFixed(2)}x |`
  console.log(`bench/cli on ${hostname()}: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString()}`)
  console.log(`${runs} runs of each; load average (1 min) ${load.toFixed(2)} before the rounds, ${loadAfter.toFixed(2)} after`)
  console.log('| command | p50 ms | p99 ms | p50 / node -e 0 | p99 / node -e 0 |')
  console.log('| --- | --- | --- | --- | --- |')
  for (const c of cases) console.log(row(c.name, summarize(samples.get(c.name) ?? [])))
} finally {
  await federation.stop()
  await rm(dir, { recursive: true, force: true })
}
