export * from './sender-monitor.error.js';
export * from './sender-monitor.messages.js';
export * from './sender-monitor.types.js';
export * from './sender-monitor.proto-paths.js';
export * from './remote-sender-monitor.js';
