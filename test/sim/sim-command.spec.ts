import test, { type ExecutionContext } from 'ava'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { main } from '../../src/cli/main.js'
import type { Output } from '../../src/cli/output.js'
import { packageRoot } from '../../src/paths.js'
import { tempDir } from '../helpers/temp.js'

function capture (): Output & { out: string[], err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return { out, err, print: (l) => out.push(l), error: (l) => err.push(l) }
}

const PAPER = join(packageRoot, 'sim', 'scenarios', 'paper-3.4.yaml')

/** `vmplant sim` of the paper's scenario with `args` and `--out` a temporary folder; it must succeed */
async function simPaper (t: ExecutionContext, ...args: string[]): Promise<{ dir: string, text: string, err: string[] }> {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const output = capture()
  const code = await main(['sim', PAPER, ...args, '--out', dir.path], output)
  t.is(code, 0, output.err.join('\n'))
  return { dir: dir.path, text: output.out.join('\n'), err: output.err }
}

test('vmplant sim runs a scenario, writes its CSV and prints a summary', async (t) => {
  const { dir, text, err } = await simPaper(t, '--seed', '3')
  t.regex(text, /scenario paper-3-4, seed 3: 14 requests/)
  t.regex(text, /ok 14 {3}refused 0 {3}error 0 {3}lost 0/)
  t.regex(text, /\n {2}a +13 +13 /)
  const requests = await readFile(join(dir, 'requests.csv'), 'utf8')
  t.is(requests.split('\n')[0], 'id,arrival_ms,latency_ms,outcome,domain,spec,plant,cost,attempts,offers,destroyed_ms,reason')
  t.is(requests.trim().split('\n').length, 15)
  t.regex(await readFile(join(dir, 'plants.csv'), 'utf8'), /^at_ms,plant,up,vms,producing,networks\n0,a,1,0,0,0\n/)
  t.deepEqual(err, [], 'no progress line when stderr is not a terminal')
})

test('vmplant sim names the field of a bad scenario and exits with 2', async (t) => {
  const dir = await tempDir()
  t.teardown(dir.remove)
  const file = join(dir.path, 'bad.yaml')
  await writeFile(file, 'name: bad\ntopology:\n  sites:\n    - name: lab\n      plants: [{ name: a, memoryMB: -5 }]\nworkload:\n  arrivals: { kind: poisson, ratePerSec: 1, requests: 3 }\n  domains: { count: 2 }\n  mix: [{ spec: { hardware: { memoryMB: 64, os: linux }, actions: [] } }]\n')
  const output = capture()
  t.is(await main(['sim', file], output), 2)
  t.deepEqual(output.err, [`vmplant: ${file}: topology.sites[0].plants[0].memoryMB: must be more than 0`])
  const seed = capture()
  t.is(await main(['sim', file, '--seed', 'many'], seed), 2)
  t.regex(seed.err[0] ?? '', /--seed must be a whole number/)
})

test('vmplant --help lists the sim command', async (t) => {
  const output = capture()
  t.is(await main(['--help'], output), 0)
  t.regex(output.out.join('\n'), /sim \[options\] <scenario>/)
})

test('vmplant sim --policy runs the scenario once per policy and prints a comparison', async (t) => {
  const { dir, text } = await simPaper(t, '--policy', 'paper,memory')
  t.regex(text, /scenario paper-3-4, seed 3, policy paper: 14 requests/)
  t.regex(text, /scenario paper-3-4, seed 3, policy memory: 14 requests/)
  t.regex(text, /\n {2}policy +ok +refused .*\n {2}paper +14 +0 +0 +0 +29\.43 +412 .*\n {2}memory +14 /)
  t.regex(await readFile(join(dir, 'paper', 'requests.csv'), 'utf8'), /^id,arrival_ms/)
  t.regex(await readFile(join(dir, 'cost-by-policy.svg'), 'utf8'), /^<svg /)
  // the exhaustive baseline runs too, and each policy is measured against it
  t.regex(text, /\n {2}exhaustive +14 +0 +0 +0 +29\.43 +412 +412 +29\.43 +1 /)
  t.regex(await readFile(join(dir, 'decision-quality.svg'), 'utf8'), /^<svg /)
  const bad = capture()
  t.is(await main(['sim', PAPER, '--policy', 'paper,cheap'], bad), 2)
  t.deepEqual(bad.err, ['vmplant: --policy: "cheap" is not a policy; choose from paper, memory, warm, random, d-choices, choices:<d>, exhaustive'])
  const zero = capture()
  t.is(await main(['sim', PAPER, '--policy', 'choices:0'], zero), 2)
  t.regex(zero.err[0] ?? '', /"choices:0" is not a policy/)
  const twice = capture()
  t.is(await main(['sim', PAPER, '--policy', 'd-choices,choices:2'], twice), 2)
  t.regex(twice.err[0] ?? '', /--policy names "choices:2" twice/)
})

test('vmplant sim --policy takes power of d choices and the exhaustive policy', async (t) => {
  const { dir, text } = await simPaper(t, '--policy', 'choices:1,exhaustive')
  t.regex(text, /policy choices-1: 14 requests/)
  const table = (await readFile(join(dir, 'policies.csv'), 'utf8')).trim().split('\n')
  t.deepEqual(table.map((l) => l.split(',')[0]), ['policy', 'choices-1', 'exhaustive'], 'the exhaustive policy runs once, where it was asked')
})
