import test from 'ava'
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { tempDir } from '../helpers/temp.js'

const INSTALL_NODE = fileURLToPath(new URL('../../../scripts/install-node.sh', import.meta.url))
const MACHINE_NODE = '/usr/bin/node'
/** a PATH whose node and npm are the machine's own (Debian's), as on a fresh clone */
const MACHINE_PATH = '/usr/bin:/bin'

interface Run { code: number, stdout: string, stderr: string }

/** runs install-node.sh with the machine's PATH; npm's cache (in HOME) keeps the tarball between runs */
async function installNode (prefix: string): Promise<Run> {
  return await new Promise((resolve) => {
    const env = { ...process.env, PATH: MACHINE_PATH }
    execFile('bash', [INSTALL_NODE, '--prefix', prefix, '--major', '24'], { env, timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

async function versionOf (node: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile(node, ['--version'], (err, stdout) => { err === null ? resolve(stdout.trim()) : reject(err) })
  })
}

const machineNode = existsSync(MACHINE_NODE) ? await versionOf(MACHINE_NODE) : undefined
const machineNodeIsOld = machineNode !== undefined && Number(machineNode.slice(1).split('.')[0]) < 24
const why = machineNode === undefined
  ? `${MACHINE_NODE} does not exist: no older machine Node to replace`
  : `${MACHINE_NODE} is ${machineNode}, not older than Node 24: nothing to replace`

const onAnOldMachineNode = machineNodeIsOld ? test.serial : test.serial.skip
onAnOldMachineNode(`install-node.sh puts Node 24 into a prefix when PATH's node is the machine's old one${machineNodeIsOld ? '' : ` (skipped: ${why})`}`, async (t) => {
  const dir = await tempDir('vmplant-node-')
  t.teardown(dir.remove)

  const first = await installNode(dir.path)
  t.is(first.code, 0, first.stderr)
  t.regex(first.stderr, new RegExp(`node on PATH is ${(machineNode ?? '').replace(/\./g, '\\.')}; installed Node v24\\.`))
  const link = join(dir.path, 'bin', 'node')
  t.regex(readlinkSync(link), /^\.\.\/lib\/vmplant-node\/24\.\d+\.\d+\/bin\/node$/)
  const installed = await versionOf(link)
  t.regex(installed, /^v24\.\d+\.\d+$/)

  const store = join(dir.path, 'lib', 'vmplant-node')
  const unpackedAt = statSync(join(store, installed.slice(1))).mtimeMs
  const second = await installNode(dir.path)
  t.deepEqual(second, { code: 0, stdout: '', stderr: '' }, 'a second run says and does nothing')
  t.deepEqual(readdirSync(store), [installed.slice(1)])
  t.is(statSync(join(store, installed.slice(1))).mtimeMs, unpackedAt)
  t.is(await versionOf(link), installed)
})

test('install-node.sh leaves a node it did not install alone', async (t) => {
  const dir = await tempDir('vmplant-node-')
  t.teardown(dir.remove)
  await mkdir(join(dir.path, 'bin'))
  await writeFile(join(dir.path, 'bin', 'node'), '#!/bin/sh\necho v20.0.0\n', { mode: 0o755 })
  const run = await installNode(dir.path)
  t.is(run.code, 1)
  t.regex(run.stderr, /exists and was not installed by this script; leaving it alone/)
  t.is(await versionOf(join(dir.path, 'bin', 'node')), 'v20.0.0')
})
