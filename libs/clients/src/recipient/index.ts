export * from './recipient.client.js';
export * from './recipient.messages.js';
export * from './recipient.proto-paths.js';
