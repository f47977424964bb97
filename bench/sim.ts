/**
 * bench/sim (issue 9): what a simulator run costs on the host. Two scenarios made in code
 * (sim/scenario.ts), run by sim/run.ts as `vmplant sim` runs them:
 *   small: 100 plants answering the shop, 10^5 requests (Poisson, 10 a second);
 *   large: 10,000 plants in 100 sites, each with a broker, 10^6 requests (Poisson, 1,000 a second).
 * Sim-line plants (clone 40 ms, resume 10 ms, 100 ms per action, 1 ms per message), a 2-action
 * spec of 128 MB, domains by Zipf's law, VMs living 60 s on average (exponential) and then
 * destroyed. Per run: wall time, events (timers the virtual clock fired) per second, peak RSS
 * (VmHWM), the create latency p50/p99 in virtual ms. A run that passes --max-seconds is stopped:
 * it reports how many requests were answered and the wall time extrapolated to all of them.
 * With --choices D the large run's shop calls D random brokers per request (power of d choices)
 * instead of all of them. CPU s is the process's user and system time: on a shared machine it
 * says what the run cost better than the wall time does.
 * Usage: node dist/bench/sim.js [--runs small,large] [--max-seconds 300]
 *        [--plants 100] [--requests 100000] [--rate 10]                       (small)
 *        [--large-plants 10000] [--sites 100] [--large-requests 1000000] [--large-rate 1000] [--choices D]
 */
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { readFileSync, writeFileSync } from 'node:fs'
import { hostname, cpus, loadavg } from 'node:os'
import { validateScenario, type ScenarioInput } from '../sim/scenario.js'
import { runScenario } from '../sim/run.js'
import { VirtualClock } from '../sim/virtual-clock.js'
import { summarize } from './stats.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: 'small,large' },
    'max-seconds': { type: 'string', default: '300' },
    plants: { type: 'string', default: '100' },
    requests: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '10' },
    'large-plants': { type: 'string', default: '10000' },
    sites: { type: 'string', default: '100' },
    'large-requests': { type: 'string', default: '1000000' },
    'large-rate': { type: 'string', default: '1000' },
    choices: { type: 'string' }
  }
})

const SPEC = {
  hardware: { memoryMB: 128, os: 'linux' },
  actions: [
    { id: 'net', run: 'echo ip_address=10.0.0.7', exports: ['ip_address'] },
    { id: 'app', run: 'echo installed', after: ['net'] }
  ]
}
const PLANT = { memoryMB: 4096, line: { cloneMs: 40, resumeMs: 10, actionMs: 100 } }

interface Size { name: string, plants: number, sites: number, brokers: boolean, requests: number, ratePerSec: number, domains: number, choices?: number }

/** `sites` sites of plants/sites plants each; a broker per site or none (the plants answer the shop) */
function scenario (size: Size): ScenarioInput {
  const perSite = Math.ceil(size.plants / size.sites)
  return {
    name: `bench-${size.name}`,
    seed: 1,
    // each sample asks every plant: rare enough to stay a small part of the run
    sampleEveryMs: 60_000,
    topology: {
      latencyMs: 1,
      ...(size.choices !== undefined ? { shop: { choices: size.choices } } : {}),
      sites: Array.from({ length: size.sites }, (_, i) => ({
        name: `s${i + 1}`,
        broker: size.brokers,
        plants: [{ name: `s${i + 1}p`, count: Math.min(perSite, size.plants - i * perSite), ...PLANT }]
      }))
    },
    workload: {
      arrivals: { kind: 'poisson', ratePerSec: size.ratePerSec, requests: size.requests },
      domains: { count: size.domains, zipf: 1 },
      mix: [{ spec: SPEC }],
      lifetime: { kind: 'exponential', meanMs: 60_000 }
    }
  }
}

/** the process's peak resident set, from the kernel; the sampled RSS where /proc is missing */
function peakRssMB (sampled: number): number {
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
    if (kb !== undefined) return Number(kb) / 1024
  } catch {}
  return sampled / 2 ** 20
}

/** VmHWM back to the current RSS (Linux), so each run reports its own peak */
function resetPeakRss (): void {
  try { writeFileSync('/proc/self/clear_refs', '5') } catch {}
}

class CapReached extends Error {}

// counts the events the virtual clock fires, whichever clock the run makes, and stops the run at
// the cap: a throw from the clock's step ends its run, and the scenario's run reports what it had
let events = 0
let deadline = Infinity
let firstStep: { at: number, virtual: number } | undefined
let lastStep = { at: 0, virtual: 0 }
const step = VirtualClock.prototype.step
VirtualClock.prototype.step = function (this: VirtualClock) {
  const fired = step.call(this)
  lastStep = { at: performance.now(), virtual: this.now() }
  firstStep ??= lastStep
  if (fired && ++events % 4096 === 0 && lastStep.at > deadline) throw new CapReached(`stopped after ${maxMs / 1000} s`)
  return fired
}

const maxMs = Number(values['max-seconds']) * 1000
const sizes: Record<string, Size> = {
  small: { name: 'small', plants: Number(values.plants), sites: 1, brokers: false, requests: Number(values.requests), ratePerSec: Number(values.rate), domains: 50 },
  large: { name: 'large', plants: Number(values['large-plants']), sites: Number(values.sites), brokers: true, requests: Number(values['large-requests']), ratePerSec: Number(values['large-rate']), domains: 2000, ...(values.choices !== undefined ? { choices: Number(values.choices) } : {}) }
}

console.log(`# bench/sim on ${hostname()} (${cpus().length} x ${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString()}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, cap ${maxMs / 1000} s`)
console.log('run | plants | sites | brokers | choices | requests | answered | capped | virtual s reached | wall s | start s | run s | stop s | CPU s | events | events/s | answered/s | extrapolated wall s | peak RSS MB | ok | refused | error | latency p50 ms | latency p99 ms | load after')
for (const name of values.runs.split(',')) {
  const size = sizes[name]
  if (size === undefined) throw new Error(`unknown run ${name}: small or large`)
  const checked = validateScenario(scenario(size), `bench-${name}`)
  events = 0
  firstStep = undefined
  let sampledRss = process.memoryUsage().rss
  resetPeakRss()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  deadline = t0 + maxMs
  const result = await runScenario(checked, {
    onProgress: (progress) => {
      if (progress.done % 1000 !== 0) return
      sampledRss = Math.max(sampledRss, process.memoryUsage().rss)
      if (process.stderr.isTTY) process.stderr.write(`\r${name}: ${progress.done}/${progress.total} answered, ${(progress.virtualMs / 1000).toFixed(0)} virtual s, ${((performance.now() - t0) / 1000).toFixed(0)} s `)
    }
  })
  const total = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const capped = result.summary.failure?.includes('stopped after') === true
  if (process.stderr.isTTY) process.stderr.write('\n')
  // the start (planning the workload, spawning the plants) until the clock's first event; the
  // run, its events; the stop (the actors stopped, the summary made) after its last
  // (set by the clock's step during the run, which the compiler cannot see)
  const first = firstStep as { at: number, virtual: number } | undefined
  const start = ((first?.at ?? t0) - t0) / 1000
  const running = (lastStep.at - (first?.at ?? lastStep.at)) / 1000
  const stop = total - start - running
  // the rows as they were when the run ended: replies the stop rejects afterwards are not answers
  const answered = result.rows.filter((r) => r.latencyMs !== undefined)
  const outcomes = (o: string): number => answered.filter((r) => r.outcome === o).length
  const latency = summarize(answered.filter((r) => r.outcome === 'ok').map((r) => r.latencyMs as number))
  // arrivals come at a steady rate, so the work per virtual second is about steady once VMs are
  // being destroyed as fast as they are made: wall time per virtual second reached, times the
  // workload's span (its last arrival). From a short start, where nothing is destroyed yet, it is rough.
  const reachedS = (lastStep.virtual - (first?.virtual ?? lastStep.virtual)) / 1000
  const spanS = size.requests / size.ratePerSec
  const extrapolated = !capped ? total.toFixed(0) : reachedS > 0 ? (start + running * spanS / reachedS).toFixed(0) : 'n/a'
  console.log([name, size.plants, size.sites, size.brokers ? 'yes' : 'no', size.choices ?? 'all', size.requests, answered.length, capped ? 'yes' : 'no', reachedS.toFixed(1), total.toFixed(1),
    start.toFixed(1), running.toFixed(1), stop.toFixed(1), ((cpu.user + cpu.system) / 1e6).toFixed(1), events, (events / Math.max(running, 1e-9)).toFixed(0), (answered.length / Math.max(running, 1e-9)).toFixed(1), extrapolated,
    peakRssMB(sampledRss).toFixed(0), outcomes('ok'), outcomes('refused'), outcomes('error'), latency.p50.toFixed(0), latency.p99.toFixed(0), loadavg()[0]?.toFixed(2)].join(' | '))
  if (result.summary.failure !== undefined && !capped) console.log(`  failure: ${result.summary.failure}`)
}
