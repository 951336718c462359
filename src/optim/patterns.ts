// Parameter-name patterns: "head.*", "*.bias", "fc1.weight". `*` matches any
// run of characters (dots included); anything else is literal.

export function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

export function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => patternToRegExp(p).test(name));
}

/** Patterns that match none of `names` (an `exclude` that matches nothing is almost always a typo). */
export function unmatchedPatterns(patterns: readonly string[], names: readonly string[]): string[] {
  return patterns.filter((p) => !names.some((n) => patternToRegExp(p).test(n)));
}
