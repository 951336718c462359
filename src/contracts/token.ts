// A DI token that carries the type it resolves to, so `resolve(TOKEN)` is typed.
export type Token<T> = symbol & { readonly __type?: T };

export function token<T>(description: string): Token<T> {
  return Symbol.for(`anchorage:${description}`);
}

/** The subset of a DI container anchorage uses, typed by tokens. */
export interface TokenResolver {
  get<T>(id: symbol): T;
  getAsync<T>(id: symbol): Promise<T>;
}

export function resolveToken<T>(c: TokenResolver, t: Token<T>): T {
  return c.get<T>(t);
}

export function resolveTokenAsync<T>(c: TokenResolver, t: Token<T>): Promise<T> {
  return c.getAsync<T>(t);
}
