export * from './sender-monitor/index.js';
export * from './recipient/index.js';
