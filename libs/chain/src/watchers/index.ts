export * from './watcher.error.js';
export * from './rpc-endpoint.js';
export * from './block-header.js';
export * from './chain-events.js';
export * from './sender-cache.js';
export * from './gas-price-monitor.js';
export * from './chain-watcher.js';
export * from './chain-watcher.module.js';
