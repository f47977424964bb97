import { productionLineConformance } from './conformance.js'

productionLineConformance({
  kind: 'qemu',
  init: ({ work, golden }) => ({ workDir: work, goldenDir: golden }),
  goldenOnTmpfs: true,
  hardware: { memoryMB: 128, os: 'linux', arch: 'x86_64' },
  // the guest's disk and its RAM (the initramfs root): a clone maps the golden RAM privately
  privatePaths: ['/data/only-left', '/root/only-left'],
  goldenPath: '/root/golden-mark',
  processes: true,
  goldenTimeoutMs: 300_000
})
