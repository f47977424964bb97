import test from 'ava'
import { readFileSync } from 'node:fs'

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }

/** [major, minor, patch] of "v24.12.0" or "24.12" */
function parts (version: string): number[] {
  return version.replace(/^v/, '').split('.').map(Number)
}

function atLeast (version: string, minimum: string): boolean {
  const have = parts(version)
  const want = parts(minimum)
  for (let i = 0; i < want.length; i++) {
    const a = have[i] ?? 0
    const b = want[i] ?? 0
    if (a !== b) return a > b
  }
  return true
}

test('package.json asks for Node 22.12 or newer', (t) => {
  const match = /^>=(\d+\.\d+(\.\d+)?)$/.exec(packageJson.engines.node)
  t.truthy(match, `engines.node is ${packageJson.engines.node}, expected the form >=X.Y`)
  t.true(atLeast(match?.[1] ?? '0', '22.12'), `engines.node ${packageJson.engines.node} allows a Node older than 22.12`)
})

test('the suite runs on a Node that package.json allows, 22.12 or newer', (t) => {
  const minimum = packageJson.engines.node.replace(/^>=/, '')
  t.true(atLeast(process.version, '22.12'), `the suite runs on Node ${process.version}`)
  t.true(atLeast(process.version, minimum), `Node ${process.version} is older than engines.node ${packageJson.engines.node}`)
})
