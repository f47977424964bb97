import { qemuLine } from '../../src/hypervisor/qemu/index.js'
import { lineSteps, steps } from '../../src/cli/progress.js'
import type { Output } from '../../src/cli/output.js'
import { qemuTest, tempDirs } from '../hypervisor/qemu-helpers.js'

const qtest = qemuTest()

qtest('a golden build on the QEMU line shows its steps as plain lines off a terminal: boot, actions, checkpoint, each ended with its time', async (t) => {
  const dirs = tempDirs('vmplant-progress')
  t.teardown(dirs.remove)
  const errors: string[] = []
  const out: Output = { print: () => {}, error: (line) => { errors.push(line) } }
  const shown = lineSteps(steps(out))
  // a boot under TCG on a loaded host can take minutes: the test is about the lines, not the time
  const line = qemuLine({ workDir: dirs.work, goldenDir: dirs.golden, poolSize: 0, bootTimeoutMs: 600_000, onProgress: (event) => { shown('qemu line', event) } })
  await line.start()
  t.teardown(async () => { await line.stop({ destroyAll: true }) })
  await line.prepareGolden({ hardware: { memoryMB: 128, os: 'linux', arch: 'x86_64' }, actions: [{ id: 'hello', run: 'echo hello' }] })
  const text = errors.join('\n')
  const golden = 'golden image [0-9a-f]{12} \\(128 MB, (tcg|kvm)\\)'
  const expected = [`booting ${golden}`, `running 1 action\\(s\\) in ${golden}`, `checkpointing ${golden}`]
    .map((step) => `vmplant: qemu line: ${step}\\.\\.\\.\\nvmplant: qemu line: ${step}: done \\(\\d+\\.\\d s\\)`).join('\\n')
  t.regex(text, new RegExp(`${expected}$`), text)
  // a fresh cache first downloads the Debian packages and builds the guest image; a warm one does neither
  const fresh = text.includes('vmplant: qemu line: downloading ')
  t.is(text.includes('vmplant: qemu line: building guest image '), fresh)
})
