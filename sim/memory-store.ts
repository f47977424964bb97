import { MemoryLevel } from 'memory-level'
import { plantStore, type LevelStore } from '../src/store/index.js'

/** The plant store on an in-memory level: the simulator's plants keep no files. */
export function memoryPlantStore (): LevelStore {
  return plantStore(new MemoryLevel<string, unknown>({ valueEncoding: 'json' }), 'memory')
}
