// The run event types are a contract (src/contracts/events.ts); re-exported here for the run loop's imports.
export * from '../contracts/events.js';
