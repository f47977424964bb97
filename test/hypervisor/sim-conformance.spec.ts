import { productionLineConformance } from './conformance.js'

productionLineConformance({
  kind: 'sim',
  // with a folder, VMs outlive the line object as they do on the real lines; a clone takes long enough to be aborted half-way
  init: ({ work }) => ({ dir: work, cloneMs: 50, resumeMs: 5, actionMs: 1 }),
  hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' },
  privatePaths: ['/root/only-left'],
  goldenPath: '/root/golden-mark',
  processes: false
})
