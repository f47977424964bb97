export { writeFileDurably, syncFolder, syncFilesIn, syncFile, readJsonFile, temporaryNameFor } from './durable-file.js'
export type { FileData, DurableWriteOptions, JsonReadOptions } from './durable-file.js'
export { CorruptFileError } from './errors.js'
