import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A temporary folder, its removal, and a writer of files in it (returns the file's path). */
export async function tempDir (prefix = 'vmplant-test-'): Promise<{ path: string, remove: () => Promise<void>, write: (name: string, text: string) => Promise<string> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return {
    path,
    remove: async () => { await rm(path, { recursive: true, force: true }) },
    write: async (name, text) => {
      const file = join(path, name)
      await writeFile(file, text)
      return file
    }
  }
}
