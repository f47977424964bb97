import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const VMPLANT_BIN = fileURLToPath(new URL('../../../bin/vmplant.js', import.meta.url))

export interface NodeProcess {
  child: ChildProcess
  pid: number
  ready: { peer: string, addrs: string[], roles: string[] }
  stderr: () => string
  /** SIGKILL by pid, and wait for the exit */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** resolves when the process has exited, however */
  exited: Promise<void>
}

/** pids of node processes started here that are still running: killed if this process exits first (a timed-out test) */
const started = new Set<number>()
process.on('exit', () => {
  for (const pid of started) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
})

/** Starts `vmplant node --config FILE` as its own OS process and waits for its ready line. */
export async function startNodeProcess (config: string, timeoutMs = 30_000, env: NodeJS.ProcessEnv = {}, wrapper: string[] = []): Promise<NodeProcess> {
  // `wrapper`: a command the node runs under, e.g. setpriv dropping a capability
  const argv = [...wrapper, process.execPath, VMPLANT_BIN, 'node', '--config', config]
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  started.add(child.pid as number)
  child.on('exit', () => { started.delete(child.pid as number) })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit')
  exited.catch(() => {})
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    process.kill(child.pid as number, signal)
    await exited
  }
  const lines = createInterface({ input: child.stdout! })
  const ready = await new Promise<NodeProcess['ready']>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`node ${config} not ready in ${timeoutMs} ms; stderr: ${stderr}`)) }, timeoutMs)
    lines.on('line', (line) => {
      try {
        const event = JSON.parse(line)
        if (event.event === 'ready') { clearTimeout(timer); resolve(event) }
      } catch {}
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`node ${config} exited with ${code}: ${stderr}`)) })
  }).catch(async (err) => { await kill(); throw err })
  return { child, pid: child.pid as number, ready, stderr: () => stderr, kill, exited: exited.then(() => undefined) }
}

/**
 * Starts a shop node process on a free port of 127.0.0.1, its config `shop.yaml` in `dir`; returns
 * it, its multiaddr and its config (to start it again on the same port).
 */
export async function startLocalShop (dir: string, bidWindowMs: number): Promise<{ shop: NodeProcess, shopAddr: string, shopConfig: string }> {
  const port = await freePort()
  const shopConfig = join(dir, 'shop.yaml')
  await writeFile(shopConfig, `roles: [shop]\nlisten: [/ip4/127.0.0.1/tcp/${port}]\ndataDir: shop\nshop:\n  bidWindowMs: ${bidWindowMs}\n`)
  const shop = await startNodeProcess(shopConfig)
  return { shop, shopAddr: `/ip4/127.0.0.1/tcp/${port}/p2p/${shop.ready.peer}`, shopConfig }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Retries `work` until it succeeds or the deadline passes; for waiting on a peer that reconnects. */
export async function eventually<T> (work: () => Promise<T>, deadlineMs: number, pauseMs = 200): Promise<T> {
  const until = Date.now() + deadlineMs
  for (;;) {
    try {
      return await work()
    } catch (err) {
      if (Date.now() > until) throw err
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  }
}

/** Whether process `pid` exists (EPERM: it does, under another user). */
export function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err?.code === 'EPERM'
  }
}
