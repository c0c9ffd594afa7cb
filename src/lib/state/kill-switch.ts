import {lstatSync} from 'node:fs'
import path from 'node:path'

export const KILL_SWITCH_FILE = 'KILL_SWITCH'

/** `touch <state dir>/KILL_SWITCH` halts trading; removing it resumes. Works without any network. */
export function killSwitchPath(stateDir: string): string {
  return path.join(stateDir, KILL_SWITCH_FILE)
}

/**
 * Fail safe: anything at that path halts (a folder, a dangling symlink), and so does a path bot cannot
 * look at; only a path that certainly holds nothing lets trading go on.
 */
export function isKillSwitchOn(stateDir: string): boolean {
  try {
    // No exception for the usual answer (nothing there): this runs every cycle and before every order.
    return lstatSync(killSwitchPath(stateDir), {throwIfNoEntry: false}) !== undefined
  } catch {
    return true
  }
}
