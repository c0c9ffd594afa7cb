import {mkdirSync, renameSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import * as z from 'zod/mini'

import {CONFIG_FILES} from './load.js'

/** Write `<name>.schema.json` per config file, for editors (yaml-language-server) and other tools. */
export function writeJsonSchemas(dir: string): string[] {
  mkdirSync(dir, {recursive: true})
  const written: string[] = []
  for (const {name, schema} of Object.values(CONFIG_FILES)) {
    const json = z.toJSONSchema(schema, {io: 'input', unrepresentable: 'any'})
    const file = path.join(dir, name.replace(/\.yaml$/, '.schema.json'))
    const tmp = `${file}.tmp-${process.pid}`
    writeFileSync(tmp, `${JSON.stringify({...json, title: `bot ${name}`}, null, 2)}\n`)
    renameSync(tmp, file)
    written.push(file)
  }

  return written
}
