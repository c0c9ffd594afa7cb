import path from 'node:path'
import * as z from 'zod/mini'

import {ensureDir, fileError, writeFileAtomic} from '../files.js'
import {CONFIG_FILES} from './load.js'

/** Write `<name>.schema.json` per config file, for editors (yaml-language-server) and other tools. */
export function writeJsonSchemas(dir: string): string[] {
  ensureDir(dir, 'schema folder', 'SCHEMA_WRITE_FAILED')
  const written: string[] = []
  for (const {name, schema} of Object.values(CONFIG_FILES)) {
    const json = z.toJSONSchema(schema, {io: 'input', unrepresentable: 'any'})
    const file = path.join(dir, name.replace(/\.yaml$/, '.schema.json'))
    try {
      writeFileAtomic(file, `${JSON.stringify({...json, title: `bot ${name}`}, null, 2)}\n`)
    } catch (error) {
      throw fileError(error, 'write', file, 'SCHEMA_WRITE_FAILED')
    }

    written.push(file)
  }

  return written
}
