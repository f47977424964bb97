import type { AbortOptions } from '../index.js'
import { shellQuote } from './args.js'
import { MigrationError } from './errors.js'
import type { QmpClient, QmpEvent } from './qmp.js'

const FINAL = new Set(['completed', 'failed', 'cancelled'])

/**
 * Both ends skip RAM in shared (file-backed) blocks, so the stream is only device state and the
 * small ROM blocks; `events` makes QEMU send the MIGRATION events we wait on.
 */
async function setCapabilities (qmp: QmpClient, options: AbortOptions): Promise<void> {
  await qmp.execute('migrate-set-capabilities', {
    capabilities: [{ capability: 'x-ignore-shared', state: true }, { capability: 'events', state: true }]
  }, options)
}

async function awaitFinal (done: Promise<QmpEvent>, what: string, options: AbortOptions & { timeoutMs: number }): Promise<void> {
  options.signal?.throwIfAborted()
  const timeoutMs = options.timeoutMs
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new MigrationError(`${what} did not finish within ${timeoutMs} ms`)) }, timeoutMs)
  })
  try {
    const event = await Promise.race([done, timeout])
    const status = String(event.data?.status)
    if (status !== 'completed') throw new MigrationError(`${what} ended ${status}`)
  } finally {
    clearTimeout(timer)
  }
}

/** Stops the VM and writes its device state to `statePath`. The RAM stays in its shared file. */
export async function checkpoint (qmp: QmpClient, statePath: string, options: AbortOptions & { timeoutMs: number }): Promise<void> {
  options.signal?.throwIfAborted()
  await qmp.execute('stop', undefined, options)
  await setCapabilities(qmp, options)
  const done = qmp.waitEvent('MIGRATION', (e) => FINAL.has(String(e.data?.status)), options)
  done.catch(() => {})
  // QEMU 7.2 has no file: URI; exec: runs the command through /bin/sh
  await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(statePath)}` }, options)
  await awaitFinal(done, 'checkpoint', options)
}

/** Readies a QEMU started with `-incoming defer`; a warm pool does this ahead of the clone. */
export async function prepareIncoming (qmp: QmpClient, options: AbortOptions = {}): Promise<void> {
  await setCapabilities(qmp, options)
}

/** Loads device state into a prepared QEMU; RAM comes from the mapped golden file. */
export async function runIncoming (qmp: QmpClient, statePath: string, options: AbortOptions & { timeoutMs: number }): Promise<void> {
  options.signal?.throwIfAborted()
  const done = qmp.waitEvent('MIGRATION', (e) => FINAL.has(String(e.data?.status)), options)
  done.catch(() => {})
  await qmp.execute('migrate-incoming', { uri: `exec:cat ${shellQuote(statePath)}` }, options)
  await awaitFinal(done, 'incoming migration', options)
}
