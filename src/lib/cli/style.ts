import type {ChalkInstance} from 'chalk'

/**
 * Colour only where a person reads it: a TTY, unless NO_COLOR; FORCE_COLOR turns it on anywhere. Elsewhere
 * (cron, pipes, JSON) chalk is not even loaded, which keeps one-shot commands quick to start.
 */
function wantColour(): boolean {
  const force = process.env.FORCE_COLOR
  if (force !== undefined) return force !== '0' && force !== 'false'
  if (process.env.NO_COLOR !== undefined) return false
  return process.stdout.isTTY === true
}

type Plain = ((text: string) => string) & {[style: string]: Plain}
const plain: Plain = new Proxy(((text: string) => text) as Plain, {get: () => plain})

export const chalk: ChalkInstance = wantColour() ? (await import('chalk')).default : (plain as unknown as ChalkInstance)
