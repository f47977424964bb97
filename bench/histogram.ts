/** A latency histogram as a small SVG file: bins on x, counts on y. */
export function histogramSvg (samples: number[], title: string, bins = 30): string {
  const min = Math.min(...samples)
  const max = Math.max(...samples)
  const width = (max - min) / bins || 1
  const counts = new Array<number>(bins).fill(0)
  for (const s of samples) counts[Math.min(bins - 1, Math.floor((s - min) / width))]!++
  const top = Math.max(...counts)
  const W = 640
  const H = 320
  const pad = 40
  const barW = (W - 2 * pad) / bins
  const bars = counts.map((c, i) => {
    const h = (H - 2 * pad) * c / top
    return `<rect x="${(pad + i * barW).toFixed(1)}" y="${(H - pad - h).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7ab5"/>`
  }).join('')
  const label = (x: number, text: string): string => `<text x="${x}" y="${H - pad + 16}" font-size="11" text-anchor="middle">${text}</text>`
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">` +
    `<rect width="${W}" height="${H}" fill="white"/><text x="${W / 2}" y="20" font-size="14" text-anchor="middle">${title}</text>` +
    bars + label(pad, `${min.toFixed(0)} ms`) + label(W - pad, `${max.toFixed(0)} ms`) +
    `<text x="${pad - 4}" y="${pad}" font-size="11" text-anchor="end">${top}</text></svg>\n`
}
