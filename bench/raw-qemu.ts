/**
 * bench/clone's raw-QEMU row: a clone of a QEMU line golden done by hand, with none of the line's
 * code on the path. The command line is the line's own (`qemuArgs`, so that both run the same
 * machine), everything else is plain Node: qemu-img for the overlay, spawn, QMP as JSON lines on
 * the socket, `migrate-incoming exec:cat`, `cont`, and one PING frame on the agent's
 * virtio-serial socket, answered by the same guest agent.
 */
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { GoldenImage } from '../src/hypervisor/index.js'
import { qemuArgs } from '../src/hypervisor/qemu/args.js'
import type { GoldenMeta } from '../src/hypervisor/qemu/golden.js'
import { cloneKernel } from '../src/hypervisor/qemu/clone-kernel.js'

/** Milliseconds of each step, from the start of the clone. */
export interface RawPhases { overlay: number, spawn: number, qmp: number, migration: number, resume: number, answer: number }

async function run (file: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(file, args, (err) => { if (err === null) resolve(); else reject(err) })
  })
}

async function connectRetry (path: string): Promise<Socket> {
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path)
        s.once('connect', () => { s.removeListener('error', reject); resolve(s) })
        s.once('error', reject)
      })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw err
      await sleep(2)
    }
  }
}

/** A QMP conversation reduced to: send a line, wait for a JSON message that matches. */
class RawQmp {
  private buffer = ''
  private readonly messages: Array<Record<string, unknown>> = []
  private wake: (() => void) | undefined
  constructor (readonly socket: Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      let nl
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).trim()
        this.buffer = this.buffer.slice(nl + 1)
        if (line !== '') this.messages.push(JSON.parse(line))
      }
      this.wake?.()
    })
  }

  async until (match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (;;) {
      const i = this.messages.findIndex(match)
      if (i >= 0) return this.messages.splice(i, 1)[0] as Record<string, unknown>
      await new Promise<void>((resolve) => { this.wake = resolve })
    }
  }

  async execute (command: string, args?: unknown): Promise<void> {
    const id = randomBytes(4).toString('hex')
    this.socket.write(JSON.stringify({ execute: command, arguments: args, id }) + '\n')
    const reply = await this.until((m) => m.id === id)
    if ('error' in reply) throw new Error(`${command}: ${JSON.stringify(reply.error)}`)
  }
}

/** Sends one PING frame and resolves when the agent's PONG for it arrives. */
async function pingAgent (path: string): Promise<void> {
  const socket = await connectRetry(path)
  const id = randomBytes(8)
  const frame = Buffer.alloc(20)
  frame.write('VMPA', 0, 'ascii')
  frame[4] = 1
  id.copy(frame, 8)
  const pong = Buffer.concat([Buffer.from('VMPA'), Buffer.from([17, 0, 0, 0]), id])
  await new Promise<void>((resolve) => {
    let seen = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk])
      if (seen.includes(pong)) resolve()
    })
    socket.write(frame)
  })
  socket.destroy()
}

/** One raw clone of `golden` in `dir`, run until the agent answers, then killed; returns its phases. */
export async function rawClone (qemuBinary: string, qemuImg: string, golden: GoldenImage, meta: GoldenMeta, dir: string): Promise<RawPhases> {
  const { phases, kill } = await rawCloneKept(qemuBinary, qemuImg, golden, meta, dir)
  await kill()
  return phases
}

/** A raw clone left running until `kill()` (which also removes `dir`): for clones made side by side. */
export async function rawCloneKept (qemuBinary: string, qemuImg: string, golden: GoldenImage, meta: GoldenMeta, dir: string): Promise<{ phases: RawPhases, kill: () => Promise<void> }> {
  mkdirSync(dir, { recursive: true })
  const file = (name: string): string => join(golden.dir, golden.artifacts[name] as string)
  const token = randomBytes(6).toString('hex')
  const args = qemuArgs({
    memoryMB: meta.memoryMB,
    accel: meta.accel,
    tbSizeMB: meta.tbSizeMB,
    // the line's clones boot nothing either: the kernel's header is what the machine needs
    kernel: await cloneKernel(golden.dir),
    initrd: file('initrd'),
    append: meta.append,
    nic: meta.mac === undefined ? undefined : { mac: meta.mac, backend: { type: 'user' } },
    ram: { path: file('memory'), share: false },
    disk: join(dir, 'disk.qcow2'),
    console: join(dir, 'console.log'),
    agentSocket: join(dir, 'agent.sock'),
    qmpSocket: join(dir, 'qmp.sock'),
    pidFile: join(dir, 'qemu.pid'),
    token,
    incoming: true
  })
  const t0 = performance.now()
  await run(qemuImg, ['create', '-q', '-f', 'qcow2', '-b', file('disk'), '-F', 'qcow2', join(dir, 'disk.qcow2')])
  const overlay = performance.now() - t0
  const child = spawn(qemuBinary, args, { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  const kill = async (): Promise<void> => {
    child.kill('SIGKILL')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const qmp = new RawQmp(await connectRetry(join(dir, 'qmp.sock')))
    await qmp.until((m) => 'QMP' in m)
    const spawned = performance.now() - t0
    await qmp.execute('qmp_capabilities')
    await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-ignore-shared', state: true }, { capability: 'events', state: true }] })
    const negotiated = performance.now() - t0
    await qmp.execute('migrate-incoming', { uri: `exec:cat '${file('state')}'` })
    const status = (m: Record<string, unknown>): string => String((m.data as { status?: string } | undefined)?.status)
    const final = await qmp.until((m) => m.event === 'MIGRATION' && ['completed', 'failed', 'cancelled'].includes(status(m)))
    if (status(final) !== 'completed') throw new Error(`raw incoming migration ended ${status(final)}`)
    const migrated = performance.now() - t0
    await qmp.execute('cont')
    const resumed = performance.now() - t0
    await pingAgent(join(dir, 'agent.sock'))
    const answered = performance.now() - t0
    qmp.socket.destroy()
    return { phases: { overlay, spawn: spawned, qmp: negotiated, migration: migrated, resume: resumed, answer: answered }, kill }
  } catch (err) {
    await kill()
    throw err
  }
}
