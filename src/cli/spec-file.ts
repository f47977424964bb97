import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { InvalidSpecError, MAX_TEXT_NESTING, nestingTooDeep, validateSpec, type VmSpec } from '../planner/index.js'
import { errorMessage } from '../interface/index.js'

/** Reads a spec file (YAML or JSON) and validates it, so bad specs never leave the client. */
export async function readSpecFile (file: string): Promise<{ raw: unknown, spec: VmSpec }> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err: unknown) {
    throw new InvalidSpecError('', `cannot read spec ${file}: ${errorMessage(err)}`, { cause: err })
  }
  const deep = nestingTooDeep(text)
  if (deep !== undefined) throw new InvalidSpecError('', `${file} nests deeper than ${MAX_TEXT_NESTING} levels at line ${deep}`)
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (err: unknown) {
    throw new InvalidSpecError('', `${file} is not valid YAML or JSON: ${errorMessage(err)}`, { cause: err })
  }
  try {
    return { raw, spec: validateSpec(raw) }
  } catch (err) {
    // the error already names the field; add only the file: `FILE: PATH: PROBLEM`
    if (err instanceof InvalidSpecError) throw err.inFile(file)
    throw err
  }
}
