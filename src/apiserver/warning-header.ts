// The Warning response header (RFC 7234 form `299 - "text"`), as kube-apiserver writes it.
//
// Size: upstream's warning recorder (apiserver endpoints/filters/warning.go) drops repeated texts
// and keeps the header small: once the texts add up to more than 4 Ki runes, every text is cut to
// 256 runes, and texts stop being added when 4 Ki runes have been written. Without this, a body
// with a megabyte-long unknown field name echoed the name back in a header larger than clients
// accept (Node's HTTP parser gives up at 16 KiB).
//
// Encoding: Go writes a header's UTF-8 bytes as they are; Node takes header strings as Latin-1 and
// throws on any character above U+00FF, which turned a warning quoting a non-Latin-1 field value
// into a 500 for the whole request. So the text is quoted, then handed to Node as its UTF-8 bytes
// spelled in Latin-1: the wire carries UTF-8.
const TRUNCATE_AT_TOTAL_RUNES = 4 * 1024;
const TRUNCATE_ITEM_RUNES = 256;

/** The texts upstream's recorder would send, in order: deduplicated and, past the budget, truncated. */
export function limitWarnings(warnings: string[]): string[] {
  const runes = (s: string) => [...s];
  const seen = new Set<string>();
  let out: string[] = [];
  let written = 0;
  let truncating = false;
  const ordered: string[] = [];
  for (const text of warnings) {
    if (!text) continue;
    if (truncating && written >= TRUNCATE_AT_TOTAL_RUNES) break;
    if (seen.has(text)) continue;
    seen.add(text);
    ordered.push(text);
    let r = runes(text);
    if (truncating && r.length > TRUNCATE_ITEM_RUNES) r = r.slice(0, TRUNCATE_ITEM_RUNES);
    if (written + r.length <= TRUNCATE_AT_TOTAL_RUNES || truncating) {
      written += r.length;
      out.push(r.join(''));
      continue;
    }
    // Over budget for the first time: start again with every text so far cut short.
    truncating = true;
    written = 0;
    out = ordered.map((t) => runes(t).slice(0, TRUNCATE_ITEM_RUNES).join(''));
    written = out.reduce((n, t) => n + runes(t).length, 0);
  }
  return out;
}

export function warningHeaderValue(warnings: string[]): string {
  // JSON quoting escapes quotes, backslashes and control characters; DEL is the one character
  // left that Node refuses in a header.
  const quoted = limitWarnings(warnings).map((w) => `299 - ${JSON.stringify(w).replace(/\x7f/g, '\\u007f')}`).join(', ');
  return Buffer.from(quoted, 'utf8').toString('latin1');
}
