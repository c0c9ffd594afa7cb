import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import type {Exchange} from 'ccxt'

import {ExchangeError} from '../ports.js'

/**
 * ccxt, loaded only when a venue is opened, and as little of it as works. The whole package costs about
 * 125 MB and 450 ms to import; the coinbase class file alone about 70 MB and 120 ms. ccxt's package
 * exports only its entry point, so the class file is imported by absolute path, found from where Node
 * resolves the package: unsupported by ccxt, hence only for classes tested that way against this exact
 * version, with the whole package as the fallback.
 */

export type ExchangeClass = new (config: Record<string, unknown>) => Exchange

export interface PrecisionModes {
  decimalPlaces: number
  significantDigits: number
  tickSize: number
}

export interface LoadedExchange {
  Exchange: ExchangeClass
  precisionModes: PrecisionModes
  /** 'class-file': the exchange's own module; 'package': all of ccxt. */
  via: 'class-file' | 'package'
}

/** Exchange classes proven to work loaded from their own file (test/ccxt), with the version they were proven on. */
const CLASS_FILE_IDS: ReadonlySet<string> = new Set(['coinbase'])
const PROVEN_VERSION = '4.5.84'

const loaded = new Map<string, Promise<LoadedExchange>>()

/** The ccxt class for `exchangeId` (cached per id). Throws a fatal ExchangeError for an id ccxt does not have. */
export function loadExchange(exchangeId: string): Promise<LoadedExchange> {
  let promise = loaded.get(exchangeId)
  if (!promise) {
    promise = load(exchangeId)
    loaded.set(exchangeId, promise)
    promise.catch(() => loaded.delete(exchangeId))
  }

  return promise
}

async function load(exchangeId: string): Promise<LoadedExchange> {
  if (CLASS_FILE_IDS.has(exchangeId)) {
    const alone = await fromClassFile(exchangeId).catch(() => null)
    if (alone) return alone
  }

  return fromPackage(exchangeId)
}

interface NumberModule {
  DECIMAL_PLACES: number
  SIGNIFICANT_DIGITS: number
  TICK_SIZE: number
}

/** The class file by absolute path, if the installed ccxt is the proven version and the file loads. */
async function fromClassFile(exchangeId: string): Promise<LoadedExchange | null> {
  // resolve('ccxt') names dist/ccxt.cjs; the ESM sources sit beside it in js/src.
  const root = path.join(path.dirname(createRequire(import.meta.url).resolve('ccxt')), '..')
  const {version} = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {version?: string}
  if (version !== PROVEN_VERSION) return null
  const url = (file: string) => pathToFileURL(path.join(root, 'js', 'src', file)).href
  const [cls, numbers] = await Promise.all([
    import(url(`${exchangeId}.js`)) as Promise<{default?: unknown}>,
    import(url('base/functions/number.js')) as Promise<NumberModule>,
  ])
  if (typeof cls.default !== 'function') return null
  return {Exchange: cls.default as ExchangeClass, precisionModes: modes(numbers), via: 'class-file'}
}

async function fromPackage(exchangeId: string): Promise<LoadedExchange> {
  const ccxt = (await import('ccxt')).default as unknown as NumberModule & {exchanges: string[]} & Record<string, unknown>
  if (!ccxt.exchanges.includes(exchangeId)) {
    throw new ExchangeError(`exchange.id "${exchangeId}" is not an exchange ccxt knows`, 'fatal', 'UNKNOWN_EXCHANGE')
  }

  return {Exchange: ccxt[exchangeId] as ExchangeClass, precisionModes: modes(ccxt), via: 'package'}
}

function modes(n: NumberModule): PrecisionModes {
  return {decimalPlaces: n.DECIMAL_PLACES, significantDigits: n.SIGNIFICANT_DIGITS, tickSize: n.TICK_SIZE}
}
