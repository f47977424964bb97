/**
 * A child process of durable-file.spec.ts: rewrites one large JSON file `count` times, durably or
 * with a plain writeFile (to show what a reader of a file replaced in place sees), then exits.
 * Usage: node file-writer.js FILE COUNT durable|plain
 */
import { writeFile } from 'node:fs/promises'
import { writeFileDurably } from '../../src/fs/index.js'

const [file, count, how] = process.argv.slice(2) as [string, string, 'durable' | 'plain']
const pad = 'x'.repeat(4 * 1024 * 1024)
for (let seq = 0; seq < Number(count); seq++) {
  const text = JSON.stringify({ seq, pad, length: pad.length })
  if (how === 'durable') await writeFileDurably(file, text)
  else await writeFile(file, text)
}
