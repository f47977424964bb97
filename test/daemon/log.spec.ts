import test from 'ava'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { logger, enable, disable } from '@libp2p/logger'
import weald from 'weald'
import { VMPLANT_BIN, freePort, startNodeProcess } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'
import { defaultLogFormat, failureLine, formatLine, installNodeLog, levelOf } from '../../src/daemon/log.js'

/** a stream that keeps what was written */
function sink (isTTY: boolean): { write: (chunk: string) => boolean, isTTY: boolean, lines: () => string[] } {
  let text = ''
  return { write: (chunk) => { text += chunk; return true }, isTTY, lines: () => text.split('\n').filter((l) => l !== '') }
}

// serial: the log hooks weald, one per process
test.serial('@libp2p/logger lines become JSON lines with time, level, component and the peer id when the stream is no terminal', (t) => {
  const stream = sink(false)
  let peer: string | undefined
  const log = installNodeLog({ stream, peer: () => peer, now: () => new Date('2026-01-02T03:04:05.678Z') })
  t.teardown(() => { log.uninstall(); disable() })
  enable('vmplant:logtest*')
  const component = logger('vmplant:logtest')
  component('before the key: %s', 'no peer')
  peer = '12D3KooWLogTestPeer'
  component('made %s with "quotes"\nand a second line', 'vm-1')
  component.error('it failed: %e', new Error('disk full'))
  log.warn('domain networks are off', { reason: 'no CAP_NET_ADMIN' })
  t.is(log.format, 'json')
  const lines = stream.lines().map((l) => JSON.parse(l))
  t.is(lines.length, 4, 'one line each, newlines inside a message stay inside its JSON')
  t.deepEqual(lines[0], { time: '2026-01-02T03:04:05.678Z', level: 'info', ns: 'vmplant:logtest', msg: 'before the key: no peer' })
  t.deepEqual(lines[1], { time: '2026-01-02T03:04:05.678Z', level: 'info', peer: '12D3KooWLogTestPeer', ns: 'vmplant:logtest', msg: 'made vm-1 with "quotes"\nand a second line' })
  t.is(lines[2].level, 'error')
  t.is(lines[2].ns, 'vmplant:logtest')
  t.regex(lines[2].msg, /^it failed: Error: disk full/)
  t.deepEqual(lines[3], { reason: 'no CAP_NET_ADMIN', time: '2026-01-02T03:04:05.678Z', level: 'warn', peer: '12D3KooWLogTestPeer', ns: 'vmplant', msg: 'domain networks are off' })
})

test.serial('on a terminal the lines are text, and uninstalling gives the logger its own output back', (t) => {
  const own = { log: weald.log, formatArgs: weald.formatArgs }
  const stream = sink(true)
  const log = installNodeLog({ stream, peer: () => '12D3KooWLogTestPeer', now: () => new Date('2026-01-02T03:04:05.678Z') })
  t.teardown(() => { log.uninstall(); disable() })
  enable('vmplant:logtest*')
  logger('vmplant:logtest')('hello %d', 42)
  t.is(log.format, 'text')
  t.deepEqual(stream.lines(), ['2026-01-02T03:04:05.678Z info  vmplant:logtest hello 42'])
  log.uninstall()
  t.is(weald.log, own.log)
  t.is(weald.formatArgs, own.formatArgs)
})

test('levels follow @libp2p/logger\'s namespaces, and text lines carry time, level and component', (t) => {
  t.deepEqual(levelOf('vmplant:plant:error'), { level: 'error', ns: 'vmplant:plant' })
  t.deepEqual(levelOf('libp2p:dialer:trace'), { level: 'trace', ns: 'libp2p:dialer' })
  t.deepEqual(levelOf('vmplant:plant'), { level: 'info', ns: 'vmplant:plant' })
  t.is(formatLine({ time: 't', level: 'warn', ns: 'vmplant', msg: 'm', peer: 'p' }, 'text'), 't warn  vmplant m')
})

test('a node process whose stderr is no terminal writes JSON lines, each with its peer id once it has one', async (t) => {
  const dir = await tempDir('vmplant-log-')
  t.teardown(dir.remove)
  const port = await freePort()
  const config = await dir.write('plant.yaml', `roles: [plant]\nlisten: [/ip4/127.0.0.1/tcp/${port}]\ndataDir: plant\n`)
  const node = await startNodeProcess(config, 30_000, { DEBUG: 'vmplant:*,-vmplant:*:trace' })
  t.teardown(async () => { await node.kill() })
  const lines = node.stderr().split('\n').filter((l) => l !== '')
  const parsed = lines.map((line) => {
    try { return JSON.parse(line) } catch { t.fail(`not a JSON line: ${line}`) }
    return undefined
  })
  const started = parsed.find((l) => /^started /.test(l?.msg))
  t.truthy(started, `a component's line: ${lines.join('\n')}`)
  t.is(started.peer, node.ready.peer)
  t.is(started.level, 'info')
  t.is(started.ns, 'vmplant:plant')
  const ready = parsed.find((l) => /^ready: /.test(l?.msg))
  t.is(ready?.peer, node.ready.peer)
  t.deepEqual(ready?.roles, ['plant'])
  for (const line of parsed) t.false(Number.isNaN(Date.parse(line.time)), `a time in ${JSON.stringify(line)}`)
})

test('log.format: text in the config writes text lines even to a pipe', async (t) => {
  const dir = await tempDir('vmplant-log-')
  t.teardown(dir.remove)
  const port = await freePort()
  const config = await dir.write('shop.yaml', `roles: [shop]\nlisten: [/ip4/127.0.0.1/tcp/${port}]\ndataDir: shop\nlog:\n  format: text\n`)
  const node = await startNodeProcess(config, 30_000, { DEBUG: 'vmplant:shop' })
  t.teardown(async () => { await node.kill() })
  const lines = node.stderr().split('\n').filter((l) => l !== '')
  t.true(lines.some((l) => /^\S+Z info {2}vmplant:shop started /.test(l)), lines.join('\n'))
  t.true(lines.some((l) => /^\S+Z info {2}vmplant ready: shop on /.test(l)), lines.join('\n'))
})

test('--log-format takes json or text, and names a bad value', async (t) => {
  const { runCli } = await import('../helpers/cli.js')
  const bad = await runCli('node', '--config', 'no-such.yaml', '--log-format', 'xml')
  t.is(bad.code, 2)
  t.regex(bad.err, /--log-format xml: must be json or text/)
})

/** Runs `vmplant node` with stderr on a pipe (no terminal) until it exits, which a failed start must do within 30 s. */
async function failedStart (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [VMPLANT_BIN, 'node', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'close')
  const timer = setTimeout(() => { if (child.exitCode === null) process.kill(child.pid as number, 'SIGKILL') }, 30_000)
  try {
    const [code, signal] = await exited as [number | null, NodeJS.Signals | null]
    if (signal !== null) throw new Error(`vmplant node ${args.join(' ')} did not exit within 30 s: ${stderr}`)
    return { code, stdout, stderr }
  } finally {
    clearTimeout(timer)
  }
}

/** every line of `text`, each of which must be a JSON object */
function jsonLines (t: { fail: (m: string) => void }, text: string): any[] {
  return text.split('\n').filter((l) => l !== '').map((line) => {
    try { return JSON.parse(line) } catch { t.fail(`not a JSON line: ${line}`) }
    return undefined
  })
}

test('a node that cannot listen on its port says so in a JSON line when stderr is no terminal, and exits with 1', async (t) => {
  const dir = await tempDir('vmplant-log-')
  t.teardown(dir.remove)
  // the port stays taken until the node has given up
  const taken = createServer()
  taken.listen(0, '127.0.0.1')
  await once(taken, 'listening')
  t.teardown(() => { taken.close() })
  const port = (taken.address() as { port: number }).port
  const config = await dir.write('shop.yaml', `roles: [shop]\nlisten: [/ip4/127.0.0.1/tcp/${port}]\ndataDir: shop\n`)
  const run = await failedStart(['--config', config])
  t.is(run.code, 1)
  t.false(run.stdout.includes('"ready"'))
  const lines = jsonLines(t, run.stderr)
  const failed = lines.filter((l) => l?.level === 'error' && /^failed to start: /.test(l.msg))
  t.is(failed.length, 1, run.stderr)
  t.regex(failed[0].msg, new RegExp(`EADDRINUSE.*127\\.0\\.0\\.1:${port}`, 's'))
  t.is(failed[0].ns, 'vmplant')
  t.regex(failed[0].peer ?? '', /^12D3KooW/, 'the node had its key when it failed')
  t.false(Number.isNaN(Date.parse(failed[0].time)))
  t.false(run.stderr.includes('vmplant: '), 'not told twice, once as plain text')
})

test('a config that does not validate is a JSON line naming the field on a pipe (exit 2), and plain text with --log-format text', async (t) => {
  const dir = await tempDir('vmplant-log-')
  t.teardown(dir.remove)
  const config = await dir.write('bad.yaml', 'roles: [shop]\ndataDir: shop\nshop:\n  bidWindowMs: -5\n')
  const run = await failedStart(['--config', config])
  t.is(run.code, 2)
  const lines = jsonLines(t, run.stderr)
  t.is(lines.length, 1, run.stderr)
  t.like(lines[0], { level: 'error', ns: 'vmplant', error: 'ConfigError' })
  t.regex(lines[0].msg, /^failed to start: .*bad\.yaml: shop\.bidWindowMs: /)
  t.is(lines[0].peer, undefined, 'no key read yet')

  const { runCli } = await import('../helpers/cli.js')
  const text = await runCli('node', '--config', config, '--log-format', 'text')
  t.is(text.code, 2)
  t.regex(text.err, /^vmplant: .*bad\.yaml: shop\.bidWindowMs: /)
  const json = await runCli('node', '--config', config, '--log-format', 'json')
  t.is(json.code, 2)
  t.like(JSON.parse(json.err), { level: 'error', error: 'ConfigError' })
})

test('the line of a failed start holds the error\'s message, class and code, without colours', (t) => {
  const err = Object.assign(new Error('listen \u001b[31mEADDRINUSE\u001b[39m: address already in use'), { code: 'EADDRINUSE' })
  t.deepEqual(failureLine(err, { peer: 'p', now: new Date(0) }), { time: '1970-01-01T00:00:00.000Z', level: 'error', peer: 'p', ns: 'vmplant', msg: 'failed to start: listen EADDRINUSE: address already in use', error: 'Error', code: 'EADDRINUSE' })
  t.is(failureLine('a string thrown', { now: new Date(0) }).msg, 'failed to start: a string thrown')
  // a failure on a terminal stays the plain `vmplant: ...` of every command
  t.is(defaultLogFormat({ isTTY: true }), 'text')
  t.is(defaultLogFormat({}), 'json')
})
