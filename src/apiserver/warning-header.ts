// The Warning response header (RFC 7234 form `299 - "text"`), as kube-apiserver writes it. Go
// writes a header's UTF-8 bytes as they are; Node takes header strings as Latin-1 and throws on
// any character above U+00FF, which turned a warning quoting a non-Latin-1 field value (a label
// key in Cyrillic, an annotation with an emoji) into a 500 for the whole request. So the text is
// quoted, then handed to Node as its UTF-8 bytes spelled in Latin-1: the wire carries UTF-8.
export function warningHeaderValue(warnings: string[]): string {
  // JSON quoting escapes quotes, backslashes and control characters; DEL is the one character
  // left that Node refuses in a header.
  const quoted = warnings.map((w) => `299 - ${JSON.stringify(w).replace(/\x7f/g, '\\u007f')}`).join(', ');
  return Buffer.from(quoted, 'utf8').toString('latin1');
}
