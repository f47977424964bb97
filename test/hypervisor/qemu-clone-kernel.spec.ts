/**
 * A clone's `-kernel` file: the golden kernel's setup sectors and a page of zeros, made once per
 * golden folder, so that a clone's QEMU does not hold the whole kernel in its heap (density,
 * issue 11). A file that is no bzImage is refused, naming it. Clones booting from it are tested
 * by every QEMU line test (qemu.spec, qemu-conformance, qemu-pool, qemu-network).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { cloneKernel, CLONE_KERNEL } from '../../src/hypervisor/qemu/clone-kernel.js'
import { GOLDEN_FILES } from '../../src/hypervisor/qemu/golden.js'
import { QemuStartError } from '../../src/hypervisor/qemu/index.js'

/** a bzImage-shaped file: 3 setup sectors after the boot sector, the header's magic, a payload */
function fakeKernel (setupSectors: number, payload: number): Buffer {
  const image = Buffer.alloc((setupSectors + 1) * 512 + payload, 7)
  image[0x1f1] = setupSectors
  image.write('HdrS', 0x202, 'latin1')
  return image
}

test('a clone kernel is the setup sectors and a page of zeros, made once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vmplant-clone-kernel-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const source = fakeKernel(3, 100_000)
  writeFileSync(join(dir, GOLDEN_FILES.kernel), source)
  const path = await cloneKernel(dir)
  t.is(path, join(dir, CLONE_KERNEL))
  const written = readFileSync(path)
  t.is(written.length, 4 * 512 + 4096)
  t.deepEqual(written.subarray(0, 4 * 512), source.subarray(0, 4 * 512))
  t.true(written.subarray(4 * 512).every((b) => b === 0))
  const made = statSync(path).mtimeMs
  t.is(await cloneKernel(dir), path)
  t.is(statSync(path).mtimeMs, made, 'the second clone finds it made')
})

test('a kernel file without a boot header is refused, naming it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vmplant-clone-kernel-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  writeFileSync(join(dir, GOLDEN_FILES.kernel), Buffer.alloc(8192, 1))
  const error = await t.throwsAsync(cloneKernel(dir), { instanceOf: QemuStartError })
  t.true(error?.message.includes(join(dir, GOLDEN_FILES.kernel)))
  // a file too short for its setup sectors too
  const short = fakeKernel(3, 0).subarray(0, 1024)
  writeFileSync(join(dir, GOLDEN_FILES.kernel), short)
  await t.throwsAsync(cloneKernel(dir), { instanceOf: QemuStartError })
})
