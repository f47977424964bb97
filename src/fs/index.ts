export { writeFileDurably, syncFolder, syncFilesIn, syncFile, readJsonFile, temporaryNameFor, isErrno } from './durable-file.js'
export type { FileData, DurableWriteOptions, JsonReadOptions } from './durable-file.js'
export { CorruptFileError } from './errors.js'
