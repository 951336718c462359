// A small typed option schema: each plugin declares its options once, and the
// same declaration gives (1) the TypeScript type an experiment author sees in
// the editor, (2) validation with field paths before any training, and (3) the
// defaults that `anchorage plugins` lists.

export interface Problem {
  path: string;
  message: string;
}

export interface FieldBase<T> {
  /** Phantom: carries the value type. */
  readonly __type?: T;
  readonly kind: string;
  readonly description: string;
  /** The default; a function computes it from the other options (described by `defaultText`). */
  readonly default?: T | ((resolved: Record<string, unknown>) => T);
  /** How a computed default reads in `anchorage plugins`. */
  readonly defaultText?: string;
  /** Validates a value already known to be present; pushes problems. */
  check(value: unknown, path: string, problems: Problem[]): void;
  /** How the allowed values read in `anchorage plugins` and in errors. */
  readonly allowed: string;
  /**
   * Left out of a run's identity while it has its default value: an option
   * added after runs were recorded, whose default keeps their behaviour, keeps their ids.
   */
  readonly omitAtDefault?: boolean;
}

export type Field<T> = FieldBase<T>;
export type OptionSchema = Record<string, Field<unknown>>;

export type FieldType<F> = F extends Field<infer T> ? T : never;
export type HasDefault<F> = F extends { default: infer D } ? (undefined extends D ? false : true) : false;

/** The options as an experiment author writes them: fields with defaults are optional. */
export type OptionsInput<S extends OptionSchema> = {
  [K in keyof S as HasDefault<S[K]> extends true ? K : never]?: FieldType<S[K]>;
} & {
  [K in keyof S as HasDefault<S[K]> extends true ? never : K]: FieldType<S[K]>;
};

/** The options as a plugin receives them: every field present. */
export type Options<S extends OptionSchema> = { [K in keyof S]: FieldType<S[K]> };

function describe(value: unknown): string {
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return `an array`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value) ?? String(typeof value)}`;
}

export interface NumberOpts<D> {
  description: string;
  default?: D;
  min?: number;
  max?: number;
  /** Strict bounds: a learning rate must be > 0, not >= 0. */
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
}

function boundText(o: NumberOpts<unknown>): string {
  const parts: string[] = [];
  if (o.min !== undefined) parts.push(`${o.exclusiveMin ? '>' : '>='} ${o.min}`);
  if (o.max !== undefined) parts.push(`${o.exclusiveMax ? '<' : '<='} ${o.max}`);
  return parts.join(' and ');
}

function checkNumber(
  o: NumberOpts<unknown>,
  integer: boolean,
  value: unknown,
  path: string,
  problems: Problem[],
): void {
  const what = integer ? 'an integer' : 'a number';
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    problems.push({
      path,
      message: `must be ${what}${boundText(o) ? ` ${boundText(o)}` : ''}, got ${describe(value)}`,
    });
    return;
  }
  const low = o.min !== undefined && (o.exclusiveMin ? value <= o.min : value < o.min);
  const high = o.max !== undefined && (o.exclusiveMax ? value >= o.max : value > o.max);
  if (low || high) problems.push({ path, message: `must be ${boundText(o)}, got ${value}` });
}

export const o = {
  number<D extends number | undefined = undefined>(opts: NumberOpts<D>): Field<number> & { default: D } {
    return {
      kind: 'number',
      description: opts.description,
      default: opts.default as D,
      allowed: `number${boundText(opts) ? ` ${boundText(opts)}` : ''}`,
      check: (v, p, problems) => checkNumber(opts, false, v, p, problems),
    };
  },
  integer<D extends number | undefined = undefined>(opts: NumberOpts<D>): Field<number> & { default: D } {
    return {
      kind: 'integer',
      description: opts.description,
      default: opts.default as D,
      allowed: `integer${boundText(opts) ? ` ${boundText(opts)}` : ''}`,
      check: (v, p, problems) => checkNumber(opts, true, v, p, problems),
    };
  },
  boolean<D extends boolean | undefined = undefined>(opts: {
    description: string;
    default?: D;
  }): Field<boolean> & { default: D } {
    return {
      kind: 'boolean',
      description: opts.description,
      default: opts.default as D,
      allowed: 'true | false',
      check: (v, p, problems) => {
        if (typeof v !== 'boolean') problems.push({ path: p, message: `must be true or false, got ${describe(v)}` });
      },
    };
  },
  string<D extends string | undefined = undefined>(opts: {
    description: string;
    default?: D;
    nonEmpty?: boolean;
  }): Field<string> & { default: D } {
    return {
      kind: 'string',
      description: opts.description,
      default: opts.default as D,
      allowed: 'string',
      check: (v, p, problems) => {
        if (typeof v !== 'string') problems.push({ path: p, message: `must be a string, got ${describe(v)}` });
        else if (opts.nonEmpty && v.length === 0) problems.push({ path: p, message: 'must not be empty' });
      },
    };
  },
  enum<const V extends readonly string[], D extends V[number] | undefined = undefined>(
    values: V,
    opts: { description: string; default?: D },
  ): Field<V[number]> & { default: D } {
    const allowed = values.map((v) => JSON.stringify(v)).join(' | ');
    return {
      kind: 'enum',
      description: opts.description,
      default: opts.default as D,
      allowed,
      check: (v, p, problems) => {
        if (typeof v !== 'string' || !values.includes(v))
          problems.push({ path: p, message: `must be one of ${allowed}, got ${describe(v)}` });
      },
    };
  },
  /** A list of numbers (or integers), optionally of a fixed length. */
  numbers<D extends number[] | undefined = undefined>(
    opts: Omit<NumberOpts<never>, 'default'> & { default?: D; integer?: boolean; length?: number; minLength?: number },
  ): Field<number[]> & { default: D } {
    const elem = opts.integer ? 'integers' : 'numbers';
    return {
      kind: 'number[]',
      description: opts.description,
      default: opts.default as D,
      allowed: `${elem}[]${boundText(opts) ? ` each ${boundText(opts)}` : ''}`,
      check: (v, p, problems) => {
        if (!Array.isArray(v)) {
          problems.push({ path: p, message: `must be an array of ${elem}, got ${describe(v)}` });
          return;
        }
        if (opts.length !== undefined && v.length !== opts.length)
          problems.push({ path: p, message: `must have ${opts.length} elements, got ${v.length}` });
        if (opts.minLength !== undefined && v.length < opts.minLength)
          problems.push({ path: p, message: `must have at least ${opts.minLength} elements, got ${v.length}` });
        v.forEach((x, i) => checkNumber(opts, !!opts.integer, x, `${p}[${i}]`, problems));
      },
    };
  },
  strings<D extends string[] | undefined = undefined>(opts: {
    description: string;
    default?: D;
  }): Field<string[]> & { default: D } {
    return {
      kind: 'string[]',
      description: opts.description,
      default: opts.default as D,
      allowed: 'string[]',
      check: (v, p, problems) => {
        if (!Array.isArray(v)) {
          problems.push({ path: p, message: `must be an array of strings, got ${describe(v)}` });
          return;
        }
        v.forEach((x, i) => {
          if (typeof x !== 'string')
            problems.push({ path: `${p}[${i}]`, message: `must be a string, got ${describe(x)}` });
        });
      },
    };
  },
  /** Nested lists of integers, e.g. class groups per task: [[0,1],[2,3]]. */
  integerGroups<D extends number[][] | undefined = undefined>(opts: {
    description: string;
    default?: D;
    min?: number;
  }): Field<number[][]> & { default: D } {
    return {
      kind: 'integer[][]',
      description: opts.description,
      default: opts.default as D,
      allowed: 'integer[][]',
      check: (v, p, problems) => {
        if (!Array.isArray(v) || v.some((g) => !Array.isArray(g))) {
          problems.push({ path: p, message: `must be an array of arrays of integers, got ${describe(v)}` });
          return;
        }
        (v as unknown[][]).forEach((g, i) =>
          g.forEach((x, j) => checkNumber({ description: '', min: opts.min }, true, x, `${p}[${i}][${j}]`, problems)),
        );
      },
    };
  },
};

/**
 * Validates `input` against `schema`; returns the complete options (defaults
 * filled in) and every problem found, each with its field path. Unknown keys
 * are problems too: a misspelt option must not be silently ignored.
 */
export function resolveOptions<S extends OptionSchema>(
  schema: S,
  input: Record<string, unknown>,
  path: string,
  ignoreKeys: readonly string[] = [],
): { options: Options<S>; problems: Problem[] } {
  const problems: Problem[] = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!(key in schema) && !ignoreKeys.includes(key)) {
      const known = Object.keys(schema);
      problems.push({
        path: `${path}.${key}`,
        message: `unknown option; ${known.length ? `allowed: ${known.join(', ')}` : 'this plugin takes no options'}`,
      });
    }
  }
  const dependent: [string, (resolved: Record<string, unknown>) => unknown][] = [];
  for (const [key, field] of Object.entries(schema)) {
    const value = input[key];
    if (value === undefined) {
      if (field.default === undefined)
        problems.push({ path: `${path}.${key}`, message: `is required (${field.allowed})` });
      else if (typeof field.default === 'function')
        dependent.push([key, field.default as (resolved: Record<string, unknown>) => unknown]);
      else out[key] = structuredClone(field.default);
      continue;
    }
    field.check(value, `${path}.${key}`, problems);
    out[key] = value;
  }
  // Defaults that depend on other options (an anchored optimizer's lr follows its `base`), once those are known.
  for (const [key, f] of dependent) out[key] = f(out);
  return { options: out as Options<S>, problems };
}
