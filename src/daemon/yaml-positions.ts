import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'

/** Where in a YAML text something is: 1-based, as editors count. */
export interface TextPosition { line: number, column: number }

/** A YAML (or JSON) text parsed with the offsets of its lines, so that a field's path can be turned into its line and column. */
export interface PositionedDocument {
  document: Document.Parsed
  /** where the node at `path` (keys and indices from the root) starts; see positionOf */
  positionOf(path: readonly PropertyKey[], unknownKeys?: readonly string[]): TextPosition | undefined
}

/**
 * Parses `text` keeping each node's offsets (the `yaml` package's `parseDocument` and
 * `LineCounter`). The document's own errors are in `document.errors`; `document.toJS()` gives
 * what `yaml.parse` would.
 */
export function parsePositioned (text: string): PositionedDocument {
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { lineCounter })
  return {
    document,
    positionOf: (path, unknownKeys) => {
      const offset = offsetOf(document, path, unknownKeys)
      if (offset === undefined) return undefined
      const { line, col } = lineCounter.linePos(offset)
      return { line, column: col }
    }
  }
}

/**
 * The value of a YAML text, as `yaml.parse` gives it and throwing what it throws (the first of the
 * document's errors), with the document for positionOf.
 */
export function parseValuePositioned (text: string): { value: unknown, positioned: PositionedDocument } {
  const positioned = parsePositioned(text)
  const first = positioned.document.errors[0]
  if (first !== undefined) throw first
  return { value: positioned.document.toJS(), positioned }
}

/** What a YAML parser's error says, on one line: its first, which ends with the line and column (the code frame after it is left out). */
export function yamlErrorText (err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  return err.message.split('\n')[0]?.replace(/:$/, '') ?? err.message
}

/** ` (line L, column C)`, or '' for no position: what a message about a field of a file ends with. */
export function atPosition (position: TextPosition | undefined): string {
  return position === undefined ? '' : ` (line ${position.line}, column ${position.column})`
}

/**
 * The offset of the node a validator's issue names: its `path` (zod's `issue.path`) and, for an
 * issue about unknown fields (zod's `unrecognized_keys`), the first of those keys, whose own key
 * is pointed at. A path that leaves the document (a missing field) ends at the deepest node it
 * reaches, the map that lacks the field. Never throws: a document it cannot follow (an alias
 * loop, a complex key) gives the deepest node it could reach, or undefined.
 */
function offsetOf (document: Document.Parsed, path: readonly PropertyKey[], unknownKeys: readonly string[] = []): number | undefined {
  let node: unknown = document.contents
  let offset = startOf(node)
  const steps: Array<{ key: PropertyKey, pointAtKey: boolean }> = path.map((key) => ({ key, pointAtKey: false }))
  if (unknownKeys[0] !== undefined) steps.push({ key: unknownKeys[0], pointAtKey: true })
  try {
    for (const { key, pointAtKey } of steps) {
      if (isAlias(node)) node = node.resolve(document)
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(key))
        if (pair === undefined) break
        node = pair.value
        offset = pointAtKey ? startOf(pair.key) ?? offset : startOf(pair.value) ?? startOf(pair.key) ?? offset
      } else if (isSeq(node) && typeof key === 'number') {
        const item: unknown = node.items[key]
        if (item === undefined) break
        node = item
        offset = startOf(item) ?? offset
      } else break
    }
  } catch {}
  return offset
}

function startOf (node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined
}
