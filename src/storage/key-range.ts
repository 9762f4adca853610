// Key ranges of the stores' sorted keys.

/** The first string after every key that starts with `prefix` (not empty): its last character plus one. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
