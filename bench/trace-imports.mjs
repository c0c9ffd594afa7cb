// node --import ./bench/trace-imports.mjs <script>: appends the URL of every module the process loads to the file
// named by BENCH_TRACE_FILE, one per line. ESM goes through a resolve hook (hooks run on their own thread in
// Node 20, hence the separate hooks file); CommonJS modules are read from require.cache when the process exits.
import {appendFileSync} from 'node:fs'
import {createRequire, register} from 'node:module'
import {pathToFileURL} from 'node:url'

const out = process.env.BENCH_TRACE_FILE
if (out) {
  register('./trace-imports-hooks.mjs', import.meta.url, {data: {out}})
  const cache = createRequire(import.meta.url).cache
  process.on('exit', () => {
    const urls = Object.keys(cache).map((file) => pathToFileURL(file).href)
    if (urls.length > 0) appendFileSync(out, `${urls.join('\n')}\n`)
  })
}
