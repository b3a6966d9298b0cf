export * from './sender-monitor/index.js';
export * from './recipient/index.js';
export * from './redeemer-ops/index.js';
