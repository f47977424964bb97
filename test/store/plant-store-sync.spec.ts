/**
 * The plant's commit of a VM record and its destroy batch reach the disk before they resolve
 * (LevelDB's `sync`, which fsyncs its log); updates and reads do not sync. Seen from outside, as
 * the kernel sees it: the store runs in a child process under strace, which counts the fsync and
 * fdatasync calls each step makes. Needs strace (Debian's `strace`); fails without it when CI is set.
 */
import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../helpers/temp.js'

const strace = spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0
const straceTest = strace || process.env.CI !== undefined ? test : test.skip
if (!strace) console.warn('no strace: skipping the store sync test (it fails instead when CI is set)')

/** The fsync/fdatasync calls of each step of store-writer.js, by step. */
async function syncsByStep (dir: string): Promise<Record<string, number>> {
  const trace = join(dir, 'trace')
  const child = spawn('strace', ['-f', '-qq', '-o', trace, '-e', 'trace=openat,fsync,fdatasync', process.execPath, new URL('store-writer.js', import.meta.url).pathname, dir], { stdio: 'inherit' })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`store-writer exited with ${String(code)}`)
  const counts: Record<string, number> = {}
  let step = 'open'
  for (const line of (await readFile(trace, 'utf8')).split('\n')) {
    const marker = /openat\(.*\/mark-(\w+)"/.exec(line)?.[1]
    if (marker !== undefined) step = marker
    else if (/\bf(data)?sync\(/.test(line)) counts[step] = (counts[step] ?? 0) + 1
  }
  return counts
}

straceTest('the commit and the destroy of a VM record are synced to disk; updates and reads are not', async (t) => {
  const dir = await tempDir('vmplant-store-sync-')
  t.teardown(dir.remove)
  const syncs = await syncsByStep(dir.path)
  t.true((syncs.commit ?? 0) >= 1, JSON.stringify(syncs))
  t.true((syncs.remove ?? 0) >= 1, JSON.stringify(syncs))
  t.is(syncs.update ?? 0, 0, JSON.stringify(syncs))
  t.is(syncs.read ?? 0, 0, JSON.stringify(syncs))
})
