// The requirements of a field selector as authorizers see them (upstream fields.ParseSelector):
// terms separated by unescaped commas, each `field=value`, `field==value` or `field!=value`,
// with `\` escaping `,`, `=`, `!` and `\` in values. Pure; a term that does not parse is left out,
// as the Node authorizer ignores a selector's parse error and then finds no requirement.
export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export function fieldRequirements(selector: string | undefined): FieldRequirement[] {
  if (!selector) return [];
  const out: FieldRequirement[] = [];
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i]!;
    if (c === '\\' && i + 1 < selector.length) {
      cur += c + selector[++i];
      continue;
    }
    if (c === ',') {
      terms.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  terms.push(cur);
  for (const t of terms) {
    const m = /^\s*([^=!\s]+)\s*(!=|==|=)(.*)$/.exec(t);
    if (!m) continue;
    out.push({ field: m[1]!, op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]!.trim()) });
  }
  return out;
}

function unescape(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}
