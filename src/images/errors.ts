/** A fetched artifact whose SHA-256 is not the one its descriptor names; the partial file was deleted. */
export class DigestMismatchError extends Error {
  static override name = 'DigestMismatchError'
  constructor (readonly image: string, readonly artifact: string, readonly expected: string, readonly actual: string, options?: ErrorOptions) {
    super(`artifact ${artifact} of image ${image} hashes to ${actual}, not ${expected}: refused and deleted`, options)
    this.name = DigestMismatchError.name
  }
}

/** A golden image whose artifact file is not where its line says. */
export class MissingArtifactError extends Error {
  static override name = 'MissingArtifactError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = MissingArtifactError.name
  }
}

/** Keys of the image index that reached no DHT peer; the next announcement tries them again. */
export class ProvideError extends Error {
  static override name = 'ProvideError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ProvideError.name
  }
}

/** An option of the image component that cannot be used; `path` names it. */
export class InvalidImagesInitError extends Error {
  static override name = 'InvalidImagesInitError'
  constructor (readonly path: string, problem: string) {
    super(`${path}: ${problem}`)
    this.name = InvalidImagesInitError.name
  }
}

/** A holder whose answer names its artifacts' files so that two would share one (or clash with a download's `.part`). */
export class ClashingFilesError extends Error {
  static override name = 'ClashingFilesError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ClashingFilesError.name
  }
}
