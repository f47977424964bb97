/**
 * Small SVG charts written by hand: a line chart and a bar chart, nothing else. Pure functions of
 * their input; every number is written with at most two decimals, so the same data give the same
 * bytes. Each series is one `<g class="series" data-name="...">`, which tests count.
 */

export interface Series {
  name: string
  /** [x, y] in data units, in x order */
  points: Array<[number, number]>
  /** draw as a staircase (a CDF, samples held until the next) rather than straight segments */
  step?: boolean
}

export interface LineChart {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  /** @default the data's */
  yMax?: number
}

export interface Bar {
  name: string
  value: number
  /** written above the bar; @default the value */
  label?: string
}

export interface BarChart {
  title: string
  yLabel: string
  bars: Bar[]
  /** a line under the chart, e.g. a caveat on units */
  note?: string
}

export interface GroupedBarChart {
  title: string
  yLabel: string
  /** the bars of each group, in the order of `keys`; one colour per key, named in the legend */
  keys: string[]
  groups: Array<{ name: string, values: number[] }>
  /** a horizontal line across the chart at this value, e.g. 1 for ratios */
  reference?: number
  note?: string
}

/** Tableau 10 and two more: distinct for up to 12 series, then they repeat. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#17becf', '#393b79']

const WIDTH = 760
const HEIGHT = 420
const MARGIN = { left: 64, right: 160, top: 40, bottom: 56 }
const FONT = 'font-family="sans-serif" font-size="12"'

/** a number as written in the SVG: two decimals at most, no "-0" */
export function fmt (n: number): string {
  const r = Math.round(n * 100) / 100
  return String(Object.is(r, -0) ? 0 : r)
}

function escapeXml (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

/** about `count` round ticks from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten */
export function ticks (max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1]
  const rough = max / count
  const power = Math.pow(10, Math.floor(Math.log10(rough)))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power
  const out: number[] = []
  for (let i = 0; out.length === 0 || (out.at(-1) as number) < max - 1e-9; i++) out.push(Math.round(i * step * 1e6) / 1e6)
  return out
}

function frame (title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-family="sans-serif" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    ''
  ].join('\n')
}

interface Axes { x: (v: number) => number, y: (v: number) => number, lines: string[] }

/** the plot area's axes, grid and labels for data from 0..xMax and 0..yMax */
function axes (xMax: number, yMax: number, xLabel: string, yLabel: string): Axes {
  const xTicks = ticks(xMax)
  const yTicks = ticks(yMax)
  const xTop = xTicks.at(-1) as number
  const yTop = yTicks.at(-1) as number
  const w = WIDTH - MARGIN.left - MARGIN.right
  const h = HEIGHT - MARGIN.top - MARGIN.bottom
  const x = (v: number): number => MARGIN.left + w * v / xTop
  const y = (v: number): number => MARGIN.top + h - h * v / yTop
  const lines = ['<g class="axes">']
  for (const t of yTicks) {
    lines.push(`<line x1="${fmt(x(0))}" y1="${fmt(y(t))}" x2="${fmt(x(xTop))}" y2="${fmt(y(t))}" stroke="#e0e0e0"/>`)
    lines.push(`<text x="${fmt(x(0) - 6)}" y="${fmt(y(t) + 4)}" text-anchor="end" ${FONT}>${fmt(t)}</text>`)
  }
  for (const t of xTicks) {
    lines.push(`<line x1="${fmt(x(t))}" y1="${fmt(y(0))}" x2="${fmt(x(t))}" y2="${fmt(y(0) + 5)}" stroke="#333333"/>`)
    lines.push(`<text x="${fmt(x(t))}" y="${fmt(y(0) + 19)}" text-anchor="middle" ${FONT}>${fmt(t)}</text>`)
  }
  lines.push(`<line x1="${fmt(x(0))}" y1="${fmt(y(0))}" x2="${fmt(x(xTop))}" y2="${fmt(y(0))}" stroke="#333333"/>`)
  lines.push(`<line x1="${fmt(x(0))}" y1="${fmt(y(0))}" x2="${fmt(x(0))}" y2="${fmt(y(yTop))}" stroke="#333333"/>`)
  lines.push(`<text x="${fmt(MARGIN.left + w / 2)}" y="${HEIGHT - 14}" text-anchor="middle" ${FONT}>${escapeXml(xLabel)}</text>`)
  lines.push(`<text transform="translate(16 ${fmt(MARGIN.top + h / 2)}) rotate(-90)" text-anchor="middle" ${FONT}>${escapeXml(yLabel)}</text>`)
  lines.push('</g>')
  return { x, y, lines }
}

interface BarAxes { y: (v: number) => number, yTop: number, w: number, lines: string[] }

/** a bar chart's value axis, grid, label and note for data from 0..yMax; values past the top are drawn at the top */
function barAxes (yMax: number, yLabel: string, note: string | undefined): BarAxes {
  const yTicks = ticks(yMax)
  const yTop = yTicks.at(-1) as number
  const w = WIDTH - MARGIN.left - MARGIN.right
  const h = HEIGHT - MARGIN.top - MARGIN.bottom
  const y = (v: number): number => MARGIN.top + h - h * Math.min(v, yTop) / yTop
  const lines = ['<g class="axes">']
  for (const t of yTicks) {
    lines.push(`<line x1="${MARGIN.left}" y1="${fmt(y(t))}" x2="${MARGIN.left + w}" y2="${fmt(y(t))}" stroke="#e0e0e0"/>`)
    lines.push(`<text x="${MARGIN.left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end" ${FONT}>${fmt(t)}</text>`)
  }
  lines.push(`<line x1="${MARGIN.left}" y1="${fmt(y(0))}" x2="${MARGIN.left + w}" y2="${fmt(y(0))}" stroke="#333333"/>`)
  lines.push(`<text transform="translate(16 ${fmt(MARGIN.top + h / 2)}) rotate(-90)" text-anchor="middle" ${FONT}>${escapeXml(yLabel)}</text>`)
  if (note !== undefined) lines.push(`<text x="${MARGIN.left}" y="${HEIGHT - 12}" ${FONT} fill="#555555">${escapeXml(note)}</text>`)
  lines.push('</g>')
  return { y, yTop, w, lines }
}

function legend (names: string[]): string[] {
  const left = WIDTH - MARGIN.right + 16
  const lines = ['<g class="legend">']
  names.forEach((name, i) => {
    const top = MARGIN.top + 4 + i * 18
    lines.push(`<rect x="${left}" y="${top}" width="14" height="10" fill="${PALETTE[i % PALETTE.length] as string}"/>`)
    lines.push(`<text x="${left + 20}" y="${top + 10}" ${FONT}>${escapeXml(name)}</text>`)
  })
  lines.push('</g>')
  return lines
}

/** A line chart of several series on shared axes from 0, with a legend in series order. */
export function lineChart (chart: LineChart): string {
  const all = chart.series.flatMap((s) => s.points)
  const xMax = Math.max(0, ...all.map((p) => p[0]))
  const yMax = chart.yMax ?? Math.max(0, ...all.map((p) => p[1]))
  const { x, y, lines } = axes(xMax, yMax, chart.xLabel, chart.yLabel)
  const body = [...lines]
  chart.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string
    const points: string[] = []
    s.points.forEach(([px, py], k) => {
      const previous = s.points[k - 1]
      if (s.step === true && previous !== undefined) points.push(`${fmt(x(px))},${fmt(y(previous[1]))}`)
      points.push(`${fmt(x(px))},${fmt(y(py))}`)
    })
    body.push(`<g class="series" data-name="${escapeXml(s.name)}"><title>${escapeXml(s.name)}</title>`)
    body.push(`<polyline fill="none" stroke="${color}" stroke-width="1.6" stroke-linejoin="round" points="${points.join(' ')}"/>`)
    body.push('</g>')
  })
  body.push(...legend(chart.series.map((s) => s.name)))
  return frame(chart.title, body)
}

/** A bar chart, one bar per entry in order, each labelled with its value. */
export function barChart (chart: BarChart): string {
  const { y, w, lines: body } = barAxes(Math.max(0, ...chart.bars.map((b) => b.value)), chart.yLabel, chart.note)
  const slot = w / Math.max(1, chart.bars.length)
  chart.bars.forEach((bar, i) => {
    const left = MARGIN.left + i * slot + slot * 0.2
    const top = y(bar.value)
    body.push(`<g class="series" data-name="${escapeXml(bar.name)}"><title>${escapeXml(bar.name)}</title>`)
    body.push(`<rect x="${fmt(left)}" y="${fmt(top)}" width="${fmt(slot * 0.6)}" height="${fmt(y(0) - top)}" fill="${PALETTE[i % PALETTE.length] as string}"/>`)
    body.push(`<text x="${fmt(left + slot * 0.3)}" y="${fmt(top - 6)}" text-anchor="middle" ${FONT}>${escapeXml(bar.label ?? fmt(bar.value))}</text>`)
    body.push(`<text x="${fmt(left + slot * 0.3)}" y="${fmt(y(0) + 19)}" text-anchor="middle" ${FONT}>${escapeXml(bar.name)}</text>`)
    body.push('</g>')
  })
  return frame(chart.title, body)
}

/** Bars in groups (one group per entry, one bar per key), each labelled with its value; one `<g class="series">` per group. */
export function groupedBarChart (chart: GroupedBarChart): string {
  const finite = chart.groups.flatMap((g) => g.values).filter((v) => Number.isFinite(v))
  const { y, yTop, w, lines: body } = barAxes(Math.max(chart.reference ?? 0, ...finite), chart.yLabel, chart.note)
  const slot = w / Math.max(1, chart.groups.length)
  const bar = slot * 0.8 / Math.max(1, chart.keys.length)
  chart.groups.forEach((group, i) => {
    const left = MARGIN.left + i * slot + slot * 0.1
    body.push(`<g class="series" data-name="${escapeXml(group.name)}"><title>${escapeXml(group.name)}</title>`)
    group.values.forEach((value, k) => {
      const x = left + k * bar
      const top = y(Number.isFinite(value) ? value : yTop)
      body.push(`<rect x="${fmt(x + 1)}" y="${fmt(top)}" width="${fmt(bar - 2)}" height="${fmt(y(0) - top)}" fill="${PALETTE[k % PALETTE.length] as string}"/>`)
      body.push(`<text x="${fmt(x + bar / 2)}" y="${fmt(top - 4)}" text-anchor="middle" font-family="sans-serif" font-size="9">${Number.isFinite(value) ? fmt(value) : 'inf'}</text>`)
    })
    body.push(`<text x="${fmt(left + slot * 0.4)}" y="${fmt(y(0) + 19)}" text-anchor="middle" ${FONT}>${escapeXml(group.name)}</text>`)
    body.push('</g>')
  })
  if (chart.reference !== undefined) body.push(`<line x1="${MARGIN.left}" y1="${fmt(y(chart.reference))}" x2="${MARGIN.left + w}" y2="${fmt(y(chart.reference))}" stroke="#333333" stroke-dasharray="4 3"/>`)
  body.push(...legend(chart.keys))
  return frame(chart.title, body)
}
