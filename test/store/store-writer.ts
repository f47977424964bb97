/**
 * A child process of plant-store-sync.spec.ts, run under strace: opens a plant store in DIR and
 * makes each of its changes after opening a marker file named for it (`DIR/mark-<step>`), so that
 * the trace tells which syscalls each step made.
 * Usage: node store-writer.js DIR
 */
import { closeSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { plantStore } from '../../src/store/index.js'
import type { Classad } from '../../src/interface/messages.js'

const dir = process.argv[2] as string
const mark = (step: string): void => { closeSync(openSync(join(dir, `mark-${step}`), 'w')) }
const classad = {
  vmid: 'vm-1', plant: '12D3KooWExamplePlantPeerId', domain: 'grid', owner: '12D3KooWExampleOwnerPeerId', state: 'running', memoryMB: 64, os: 'linux', arch: 'x86_64',
  line: 'sim', goldenImage: 'g', network: { name: 'hostonly-0', index: 0 }, cost: 50, createdAt: new Date(0).toISOString(),
  timings: { biddingMs: 1, cloningMs: 1, configuringMs: 1, totalMs: 3 }, actions: { cloned: [], run: [] }, outputs: {}, attributes: {}, recovered: []
} satisfies Classad
const record = { classad, handle: { token: 'a' }, requestId: 'r-1', orderedBy: 'shop' }

const store = plantStore(join(dir, 'db'))
await store.start()
mark('commit')
await store.commitVm(record, { domain: 'grid', index: 0, name: 'hostonly-0', allocatedAt: 'now' })
mark('update')
await store.updateVm({ ...record, classad: { ...classad, state: 'paused' } })
mark('read')
await store.getVm('vm-1')
await store.listVms()
mark('remove')
await store.removeVm('vm-1', 'grid')
mark('end')
await store.stop()
