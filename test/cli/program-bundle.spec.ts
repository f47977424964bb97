import test from 'ava'
import { execFile } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { bundleIsFresh } from '../../src/cli/bundled.js'
import { tempDir } from '../helpers/temp.js'
import { root, runTraced, writeTracer } from './module-trace.js'

const PROGRAM = 'dist/src/cli/commands/program.bundle.cjs'

test('the program comes from its bundle when fresh: commander and the command files load as one file, and a command still loads its implementation as modules', async (t) => {
  t.timeout(120_000)
  const dir = await tempDir()
  t.teardown(async () => { await dir.remove() })
  const tracer = await writeTracer(dir.path)
  if (!bundleIsFresh(PROGRAM)) await promisify(execFile)(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')], { cwd: root })
  t.true(bundleIsFresh(PROGRAM), 'scripts/bundle-cli.mjs made a program bundle that matches its inputs')

  const help = await runTraced(tracer, ['--help'])
  t.is(help.code, 0, help.err)
  t.regex(help.out, /Usage: vmplant/)
  t.true(help.loaded.includes('dist/src/cli/main.js'), 'the tracer sees the modules the process loads')
  t.deepEqual(help.loaded.filter((file) => file.startsWith('node_modules/commander/') || file.startsWith('dist/src/cli/commands/')), [], 'commander and the commands come from the bundle')
  t.true((await stat(join(root, `${PROGRAM}.v8cache`))).isFile(), 'with its code cache beside it')

  // the same program as modules: the same help, with the package's paths (import.meta.url) in it
  for (const argv of [['--help'], ['demo', '--help'], ['status', '--help']]) {
    const bundled = await runTraced(tracer, argv)
    const modules = await runTraced(tracer, argv, { VMPLANT_NO_BUNDLE: '1' })
    t.is(modules.code, 0, modules.err)
    t.true(modules.loaded.includes('dist/src/cli/commands/program.js'))
    t.is(bundled.out, modules.out, `vmplant ${argv.join(' ')}`)
  }
  // commander wraps help at 80 columns, so a long checkout path may break the default onto the next line
  const demoHelp = (await runTraced(tracer, ['demo', '--help'])).out.replace(/\s+/g, ' ')
  t.true(demoHelp.includes(`default: "${join(root, 'config', 'demo-spec.yaml')}"`), demoHelp)

  // a command's import() of its implementation, made by the bundle's host, loads it as modules
  const key = await runTraced(tracer, ['federation', 'key', '--out', join(dir.path, 'swarm.key')])
  t.is(key.code, 0, key.err)
  t.true(key.loaded.includes('dist/src/net/federation.js'))
  t.true((await stat(join(dir.path, 'swarm.key'))).isFile())
  const bad = await runTraced(tracer, ['sim', join(dir.path, 'missing.yaml')])
  t.is(bad.code, 2)
  t.regex(bad.err, /missing\.yaml/)
})
