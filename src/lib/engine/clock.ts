/**
 * When the next cycle may start. The sim's virtual clock moves one bar per call; a wall clock (for real
 * exchanges) waits for the interval. `next` returns false when there is nothing more to do (end of data,
 * or a stop was requested).
 */
export interface Clock {
  now(): Promise<number>
  next(lastCycleTime: number, stop: AbortSignal): Promise<boolean>
}

/** Resolves after `ms`, or as soon as `stop` fires. */
export function sleep(ms: number, stop: AbortSignal): Promise<void> {
  if (ms <= 0 || stop.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      stop.removeEventListener('abort', done)
      resolve()
    }

    stop.addEventListener('abort', done, {once: true})
  })
}

export class VirtualClock implements Clock {
  constructor(private readonly source: {now(): number; advance(): Promise<boolean>}, private readonly paceMs: number) {}

  async now(): Promise<number> {
    return this.source.now()
  }

  async next(_last: number, stop: AbortSignal): Promise<boolean> {
    await sleep(this.paceMs, stop)
    if (stop.aborted) return false
    return this.source.advance()
  }
}
