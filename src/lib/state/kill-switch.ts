import {existsSync} from 'node:fs'
import path from 'node:path'

export const KILL_SWITCH_FILE = 'KILL_SWITCH'

/** `touch <state dir>/KILL_SWITCH` halts trading; removing it resumes. Works without any network. */
export function killSwitchPath(stateDir: string): string {
  return path.join(stateDir, KILL_SWITCH_FILE)
}

export function isKillSwitchOn(stateDir: string): boolean {
  return existsSync(killSwitchPath(stateDir))
}
