import type { LineProgress } from '../interface/index.js'
import type { PeerImagesEvent } from './types.js'

/**
 * A plant's image fetches as line steps (`image-fetch`), for a person watching a create that
 * copies a golden image from a peer: a start, the share of each artifact received, the end.
 */
export function imageFetchProgress (listener: (event: LineProgress) => void): (event: PeerImagesEvent) => void {
  const started = new Set<string>()
  return (event) => {
    const detail = `image ${event.id.slice(0, 12)} from ${event.peer.slice(-8)}`
    switch (event.type) {
      case 'image.progress': {
        const fraction = event.bytes > 0 ? event.received / event.bytes : 1
        const phase = started.has(event.id) ? 'progress' : 'start'
        started.add(event.id)
        listener({ step: 'image-fetch', phase, detail: `${detail} (${event.artifact}, ${mb(event.bytes)})`, fraction })
        break
      }
      case 'image.fetched':
      case 'image.failed':
        if (started.delete(event.id)) listener({ step: 'image-fetch', phase: 'done', detail })
        break
      default: {
        const unknown: never = event
        throw new Error(`unknown image event ${JSON.stringify(unknown)}`)
      }
    }
  }
}

function mb (bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
