/**
 * A small XML well-formedness check for the SVG the simulator writes: one root, tags that nest
 * and close, quoted attributes, no stray `<` or `&`. Returns the element names in document order.
 */
export function parseXml (text: string): string[] {
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, '').trim()
  const token = /<!--[\s\S]*?-->|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y
  const stack: string[] = []
  const elements: string[] = []
  let roots = 0
  let at = 0
  while (at < body.length) {
    token.lastIndex = at
    const m = token.exec(body)
    if (m === null) throw new Error(`not well-formed at ${at}: ${body.slice(at, at + 40)}`)
    at = token.lastIndex
    const [whole, close, name, , selfClose, text] = m
    if (whole.startsWith('<!--')) continue
    if (text !== undefined) {
      if (stack.length === 0 && text.trim() !== '') throw new Error('text outside the root element')
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`a bare & in ${text}`)
      continue
    }
    if (close === '/') {
      if (stack.pop() !== name) throw new Error(`</${String(name)}> closes nothing open`)
      continue
    }
    if (stack.length === 0) roots++
    elements.push(name as string)
    if (selfClose !== '/') stack.push(name as string)
  }
  if (stack.length > 0) throw new Error(`<${stack.join('>, <')}> left open`)
  if (roots !== 1) throw new Error(`${roots} root elements`)
  return elements
}

/** the data-name of every `<g class="series">` */
export function seriesNames (svg: string): string[] {
  return [...svg.matchAll(/<g class="series" data-name="([^"]*)">/g)].map((m) => m[1] as string)
}
