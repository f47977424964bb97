import { validateSpec } from '../../src/planner/index.js'

/** The paper's four-action chain (os → vnc → files → ip), for tests that fetch or match images by prefix. */
export const CHAIN_SPEC = validateSpec({
  hardware: { memoryMB: 64, os: 'linux' },
  actions: [
    { id: 'os', run: 'echo os' },
    { id: 'vnc', run: 'echo vnc', after: ['os'] },
    { id: 'files', run: 'echo files', after: ['vnc'] },
    { id: 'ip', run: 'echo ip', after: ['files'] }
  ]
})

/** A create's progress as the client sees it (who: shop or the winning plant, step, phase), in order. */
export const CREATE_PROGRESS_STEPS = [
  'shop bidding start', 'shop bidding done',
  'winner order start',
  'winner golden start', 'winner golden done',
  'winner clone start', 'winner clone done',
  'winner actions start', 'winner actions done',
  'winner order done'
]
