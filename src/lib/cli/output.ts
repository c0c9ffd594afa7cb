/**
 * Lines to a stream that may be slower than bot (a pipe to a log shipper, a socket from child_process): when
 * the stream's buffer is full, `drained()` waits for it, so a long replay keeps a bounded amount of output in
 * memory instead of queueing megabytes, and the reader gets every line.
 */
export class LineWriter {
  private waiting: Promise<void> | null = null

  constructor(private readonly stream: NodeJS.WritableStream) {}

  write(line: string): void {
    if (this.stream.write(`${line}\n`) || this.waiting) return
    this.waiting = new Promise((resolve) => {
      const done = () => {
        this.stream.off('drain', done)
        this.stream.off('close', done)
        this.waiting = null
        resolve()
      }

      this.stream.on('drain', done)
      this.stream.on('close', done)
    })
  }

  drained(): Promise<void> {
    return this.waiting ?? Promise.resolve()
  }
}
