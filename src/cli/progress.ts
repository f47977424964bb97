import type { LineProgress } from '../interface/production-line.js'
import type { Output } from './output.js'

/** Long work shown to a person, one step at a time: each with the time it took, and a bar while it runs. */
export interface Progress {
  /** starts a step (ending the one before); `fraction` 0..1 when its share done is known */
  step(label: string, fraction?: number): void
  /** how far the running step is, 0..1 (drawn on a terminal only) */
  update(fraction: number, detail?: string): void
  /** ends the running step; `outcome` says how it ended when not plainly done */
  end(outcome?: string): void
  /** ends the running step (as `end`) */
  close(outcome?: string): void
}

/** Steps that may run at once (several plants building), each under a key of its own. */
export interface Steps {
  start(key: string, label: string, fraction?: number): void
  update(key: string, fraction: number, detail?: string): void
  end(key: string, outcome?: string): void
  /** ends every running step with `outcome` (the status line is redrawn only while a step runs) */
  close(outcome?: string): void
}

/** how often a terminal's status line is redrawn, for the elapsed time */
const REDRAW_MS = 250
const BAR = 24

interface Running { label: string, started: number, fraction?: number, detail?: string }

/**
 * On a terminal (`out.status`): the latest running step on one line redrawn in place: a bar when
 * its share done is known (else a sliding block), the seconds so far, how many more steps run,
 * and its label; each ended step stays as a line. Elsewhere (a pipe, a log, a test): one plain line when a
 * step starts and one when it ends.
 */
export function steps (out: Output, now: () => number = Date.now): Steps {
  const running = new Map<string, Running>()
  let timer: ReturnType<typeof setInterval> | undefined
  const status = out.status
  const draw = (): void => {
    if (status === undefined) return
    const current = [...running.values()].at(-1)
    if (current === undefined) return
    const elapsed = (now() - current.started) / 1000
    let bar: string
    if (current.fraction !== undefined) {
      const filled = Math.round(BAR * Math.min(1, Math.max(0, current.fraction)))
      bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${Math.floor(100 * current.fraction)}%`
    } else {
      const at = Math.floor(elapsed * 4) % (BAR - 3)
      bar = `[${'.'.repeat(at)}###${'.'.repeat(BAR - 3 - at)}]`
    }
    const more = running.size > 1 ? `  (+${running.size - 1} more)` : ''
    // the bar and the time first: a line longer than the terminal loses the end of its label
    status(`${bar} ${elapsed.toFixed(1)} s${more}  ${current.label}${current.detail !== undefined ? `  ${current.detail}` : ''}`)
  }
  const end = (key: string, outcome?: string): void => {
    const step = running.get(key)
    if (step === undefined) return
    running.delete(key)
    if (status !== undefined) status('')
    out.error(`vmplant: ${step.label}: ${outcome ?? 'done'} (${((now() - step.started) / 1000).toFixed(1)} s)`)
    if (running.size > 0) draw()
    else if (timer !== undefined) {
      clearInterval(timer)
      timer = undefined
    }
  }
  return {
    start: (key, label, fraction) => {
      end(key)
      running.set(key, { label, started: now(), ...(fraction !== undefined ? { fraction } : {}) })
      if (status === undefined) out.error(`vmplant: ${label}...`)
      else {
        timer ??= setInterval(draw, REDRAW_MS)
        timer.unref()
        draw()
      }
    },
    update: (key, fraction, detail) => {
      const step = running.get(key)
      if (step === undefined) return
      step.fraction = fraction
      if (detail !== undefined) step.detail = detail
      draw()
    },
    end,
    close: (outcome) => {
      for (const key of [...running.keys()]) end(key, outcome)
    }
  }
}

/** One step at a time, on steps of its own. */
export function progress (out: Output, now: () => number = Date.now): Progress {
  return progressOn(steps(out, now), 'step')
}

/** One step at a time under `key`, among other steps of `all` (its `close` ends only its own step). */
export function progressOn (all: Steps, key: string): Progress {
  return {
    step: (label, fraction) => { all.start(key, label, fraction) },
    update: (fraction, detail) => { all.update(key, fraction, detail) },
    end: (outcome) => { all.end(key, outcome) },
    close: (outcome) => { all.end(key, outcome) }
  }
}

const VERBS: Record<LineProgress['step'], string> = {
  download: 'downloading',
  build: 'building',
  boot: 'booting',
  actions: 'running',
  checkpoint: 'checkpointing',
  'image-fetch': 'fetching'
}

/** A plant line's steps (`LineProgress`), e.g. "plant-0: booting golden image 3f2a… (128 MB, tcg)". */
export function lineSteps (all: Steps): (plant: string, event: LineProgress) => void {
  const running = new Set<string>()
  return (plant, event) => {
    const key = `${plant} ${event.step}`
    if (event.phase === 'done') {
      running.delete(key)
      all.end(key)
    } else if (event.phase === 'progress' && running.has(key)) {
      all.update(key, event.fraction ?? 0)
    } else {
      running.add(key)
      all.start(key, `${plant}: ${VERBS[event.step]} ${event.detail}`, event.fraction)
    }
  }
}
