import { productionLineConformance } from './conformance.js'

productionLineConformance({
  kind: 'uml',
  init: ({ work, golden }) => ({ workDir: work, goldenDir: golden }),
  hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' },
  privatePaths: ['/root/only-left'],
  goldenPath: '/root/golden-mark',
  processes: true,
  // measured once per work folder at the first boot
  lineFiles: /^lpj(\.tmp)?$/
})
