/** One problem found in the configuration, pinned to a place a person can open in an editor. */
export interface ConfigIssue {
  file: string
  line: number | null
  column: number | null
  /** Key path inside the file, e.g. `risk.max_total_at_risk_pct` or `tiers.tier1.symbols[2]`; '' for the whole file. */
  path: string
  /** Stable code: yaml_syntax, duplicate_key, unknown_key, invalid_type, too_big, cross_file, env_unset, ... */
  code: string
  message: string
}

export type PathSegment = string | number

export function formatPath(path: readonly PathSegment[]): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`
    else out += `[${JSON.stringify(seg)}]`
  }

  return out
}

/** `config/policy.yaml:12:3 risk.max_total_at_risk_pct: expected ...` */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === null ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`
}
