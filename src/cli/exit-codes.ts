export const EXIT = {
  ok: 0,
  /** A run failed, diverged or was interrupted. */
  runFailed: 1,
  /** Bad usage, a bad experiment or a bad input file. */
  usage: 2,
} as const;

import { UserError } from '../errors.js';

/** An error whose message is meant for the user as is (no stack trace). */
export class UsageError extends UserError {}
