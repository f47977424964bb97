import { ensureGuestImage, type GuestImage } from '../guest/index.js'
import { ProductionError, type AbortOptions, type GoldenImage, type GoldenOptions, type GoldenRequest, type LineProgress } from '../index.js'
import { resolveAccel } from './accel.js'
import { prepareGolden } from './golden.js'
import type { QemuLineInit } from './init.js'

/**
 * The QEMU line's golden builds: the guest image and the acceleration they share, each found
 * once for every build that waits for it, and the builds under way, which the line's stop aborts.
 */
export class GoldenBuilds {
  private building = new AbortController()
  private readonly builds = new Set<Promise<GoldenImage>>()
  private image: Promise<GuestImage> | undefined
  /** callers of prepareGolden waiting on the guest image, who see its download and build */
  private readonly imageWatchers = new Set<(event: LineProgress) => void>()
  private accel: Promise<'kvm' | 'tcg'> | undefined
  private chosen: 'kvm' | 'tcg' | undefined

  constructor (private readonly init: QemuLineInit) {}

  /** the acceleration the line found, once a build has found it */
  get chosenAccel (): 'kvm' | 'tcg' | undefined {
    return this.chosen
  }

  /** Builds a golden; `onBuilt` sees it before the build counts as finished. */
  async build (request: GoldenRequest, options: GoldenOptions, onBuilt: (golden: GoldenImage) => void): Promise<GoldenImage> {
    // a build boots a QEMU of its own: stop() aborts it, and waits until its process is gone
    const signal = options.signal !== undefined ? AbortSignal.any([options.signal, this.building.signal]) : this.building.signal
    const watcher = options.onProgress
    // the guest image is built once for every golden that waits for it: each caller sees its steps
    if (watcher !== undefined) this.imageWatchers.add(watcher)
    const work = (async () => {
      const image = await this.guestImage({ signal })
      const accel = await this.acceleration(image, { signal })
      const onProgress = (event: LineProgress): void => { this.init.onProgress?.(event); watcher?.(event) }
      return await prepareGolden({ init: { ...this.init, onProgress }, image, accel }, request, { signal })
    })()
    this.builds.add(work)
    try {
      const golden = await work
      onBuilt(golden)
      return golden
    } finally {
      this.builds.delete(work)
      if (watcher !== undefined) this.imageWatchers.delete(watcher)
    }
  }

  /** aborts every build under way and waits until each has ended */
  async abortAll (): Promise<void> {
    this.building.abort(new ProductionError('the qemu line is stopping'))
    await Promise.allSettled([...this.builds])
    this.building = new AbortController()
  }

  private async guestImage (options: AbortOptions): Promise<GuestImage> {
    const onProgress = (event: LineProgress): void => {
      this.init.onProgress?.(event)
      for (const watcher of this.imageWatchers) watcher(event)
    }
    this.image ??= ensureGuestImage({ ...this.init.image, cacheDir: this.init.cacheDir, onProgress }, options)
    this.image.catch(() => { this.image = undefined })
    return await this.image
  }

  private async acceleration (image: GuestImage, options: AbortOptions): Promise<'kvm' | 'tcg'> {
    this.accel ??= resolveAccel(this.init, image, options)
    this.accel.then((chosen) => { this.chosen = chosen }, () => { this.accel = undefined })
    return await this.accel
  }
}
