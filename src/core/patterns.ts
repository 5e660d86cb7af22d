/**
 * Whether a name matches one of the patterns of a permission list: `*` matches everything, a
 * pattern ending in `*` matches by prefix (`/v1/jobs*`, `docs-*`), any other matches exactly.
 */
export function matchesAny(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern));
}
