import {Flags} from '@oclif/core'

/** One day: Node's timers overflow past 2^31-1 ms (about 24.8 days) and would then fire at once. */
export const MAX_INTERVAL_SECONDS = 86_400

/** Seconds as a decimal (0.2, 5, 60), within 0..MAX_INTERVAL_SECONDS. */
export const intervalFlag = Flags.custom<number>({
  helpValue: '<seconds>',
  async parse(input) {
    const value = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(input) ? Number(input) : Number.NaN
    if (!(value >= 0 && value <= MAX_INTERVAL_SECONDS)) {
      throw new Error(`--interval expects seconds between 0 and ${MAX_INTERVAL_SECONDS} (decimals allowed, e.g. 0.2), got "${input}"`)
    }

    return value
  },
})
