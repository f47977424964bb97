/**
 * Runs after the whole suite (see "test" in package.json): fails if a hypervisor process that a
 * test started is still alive. Names are cut to 15 characters, so command lines are matched.
 */
import { execFileSync } from 'node:child_process'

let left = ''
try {
  left = execFileSync('pgrep', ['-a', '-f', '(^|/)(qemu-system-x86_64|linux\\.uml)( |$)'], { encoding: 'utf8' })
} catch (err: any) {
  if (err?.status !== 1) throw err
}
if (left.trim() !== '') {
  console.error(`hypervisor processes outlived the test suite:\n${left}`)
  process.exit(1)
}
console.log('no hypervisor process outlived the suite')
