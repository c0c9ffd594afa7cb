import assert from 'node:assert/strict'
import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {ROOT} from '../helpers/cli.js'
import {requireBinary, runTool} from '../helpers/daemons.js'
import {tempDir} from '../helpers/fixtures.js'

const OPS = path.join(ROOT, 'ops')

describe('operations files', function () {
  it('bot.service passes `systemd-analyze verify` (with ExecStart pointed at a stand-in for the installed bot)', function () {
    const analyze = requireBinary(this, 'systemd', 'systemd-analyze')
    const {dir, cleanup} = tempDir('bot-unit-')
    try {
      // verify insists the executable exists; the unit names where `npm install -g` puts it
      const stub = path.join(dir, 'bot')
      writeFileSync(stub, '#!/bin/sh\nexit 0\n')
      chmodSync(stub, 0o755)
      const unit = readFileSync(path.join(OPS, 'systemd', 'bot.service'), 'utf8')
      assert.match(unit, /^ExecStart=\/usr\/local\/bin\/bot run --state-dir \/var\/lib\/bot --config-dir \/etc\/bot$/m)
      const file = path.join(dir, 'bot.service')
      writeFileSync(file, unit.replaceAll('/usr/local/bin/bot', stub))
      const r = runTool(analyze, ['verify', file])
      assert.equal(r.stdout + r.stderr, '', 'systemd-analyze findings (an unknown key is only a warning, so any output fails)')
      assert.equal(r.status, 0)
      for (const line of ['Type=simple', 'Restart=always', 'KillSignal=SIGTERM', 'EnvironmentFile=/etc/bot/bot.env', 'User=bot', 'StateDirectory=bot', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/bot']) {
        assert.match(unit, new RegExp(`^${line}$`, 'm'), line)
      }

      const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1])
      assert.ok(stop > 120, 'TimeoutStopSec lets a cycle of loop.max_cycle_seconds (120 s by default) finish')
      assert.ok(Number(/^RestartSec=(\d+)$/m.exec(unit)?.[1]) > 0)
    } finally {
      cleanup()
    }
  })

  it('bot.env.example holds only empty or commented values', function () {
    const lines = readFileSync(path.join(OPS, 'systemd', 'bot.env.example'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'))
    for (const line of lines) assert.match(line, /^[A-Z_][A-Z0-9_]*=(|1)$/, line)
    assert.ok(lines.includes('BOT_API_KEY=') && lines.includes('BOT_API_SECRET='))
  })

  it('bot.crontab: five time fields and a shell command that parses, for bot validate and bot trim --dry-run', function () {
    const text = readFileSync(path.join(OPS, 'cron', 'bot.crontab'), 'utf8')
    const jobs = text.split('\n').filter((l) => /^[\d*]/.test(l))
    assert.equal(jobs.length, 2)
    for (const job of jobs) {
      const fields = job.split(/\s+/)
      for (const f of fields.slice(0, 5)) assert.match(f, /^(\*|\d+)(\/\d+)?$/, job)
      const command = job.replace(/^(\S+\s+){5}/, '')
      assert.doesNotMatch(command, /(^|[^\\])%/, 'cron turns an unescaped % into a newline')
      const r = runTool('/bin/sh', ['-n', '-c', command.replaceAll('\\%', '%')])
      assert.equal(r.status, 0, `${command}: ${r.stderr}`)
    }

    assert.match(jobs[0], /bot validate --config-dir \/etc\/bot/)
    assert.match(jobs[1], /bot trim --dry-run --state-dir \/var\/lib\/bot --config-dir \/etc\/bot/)
  })
})
