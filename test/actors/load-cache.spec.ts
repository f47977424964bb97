import test from 'ava'
import { livePlants, noteReport, type LoadCache } from '../../src/actors/broker/load-cache.js'
import { loadReportSchema, type LoadReport } from '../../src/interface/index.js'

const PLANT = '12D3KooWSimP1111'

function report (epoch: number, seq: number, runningVms: number, over: Partial<LoadReport> = {}): LoadReport {
  return {
    type: 'load.report', plant: PLANT, epoch, seq, ttlMs: 1000,
    cost: { model: 'paper', computeCost: 4, networkCost: 50, maxNetworks: 4, maxVms: 32 },
    line: { kind: 'sim', minMemoryMB: 16, overheadMB: 0 },
    load: { runningVms, domains: ['grid'], memoryUsedMB: 0, memoryCapacityMB: 4096 },
    images: [],
    ...over
  }
}

test('a broker keeps the newest report of a plant, across the plant\'s restarts', (t) => {
  const cache: LoadCache = new Map()
  t.is(noteReport(cache, report(10, 2, 2), 0), undefined)
  noteReport(cache, report(10, 1, 1), 0)
  t.is(cache.get(PLANT)?.load.runningVms, 2, 'an older report of the same run changes nothing')
  noteReport(cache, report(20, 1, 0), 0)
  t.is(cache.get(PLANT)?.load.runningVms, 0, 'a report of a later run replaces it')
  noteReport(cache, report(10, 9, 5), 0)
  t.is(cache.get(PLANT)?.load.runningVms, 0, 'a late report of the earlier run does not')
})

test('a plant whose report has run out is forgotten', (t) => {
  const cache: LoadCache = new Map()
  noteReport(cache, report(1, 1, 0), 0)
  t.is(livePlants(cache, 1000).length, 1)
  t.is(livePlants(cache, 1001).length, 0)
  t.is(cache.size, 0)
})

test('a report with a cost model the broker cannot price is refused with the reason', (t) => {
  const cache: LoadCache = new Map()
  const refused = noteReport(cache, report(1, 1, 0, { cost: { model: 'auction', computeCost: 4, networkCost: 50, maxNetworks: 4, maxVms: 32 } }), 0)
  t.regex(refused ?? '', /cost model this broker cannot price/)
  t.is(cache.size, 0)
})

test('the wire refuses a report that names a domain badly', (t) => {
  const bad = loadReportSchema.safeParse(report(1, 1, 0, { load: { runningVms: 0, domains: ['Grid!'], memoryUsedMB: 0, memoryCapacityMB: 1 } }))
  t.false(bad.success)
  t.regex(bad.error?.issues[0]?.message ?? '', /domain name/)
  t.true(loadReportSchema.safeParse(report(1, 1, 0, { load: { runningVms: 0, domains: ['grid', `lab/${PLANT}`], memoryUsedMB: 0, memoryCapacityMB: 1 } })).success)
})
