// Errors that are the user's to fix (a bad experiment, a missing file, an
// unavailable backend): the CLI prints their message alone and exits 2.
// A module of its own so that the CLI can tell them apart without loading
// the modules that throw them.
export class UserError extends Error {}
