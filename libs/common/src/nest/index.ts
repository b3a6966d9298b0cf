export * from './bootstrap.js';
export * from './health.js';
export * from './logger.js';
export * from './metrics.js';
export * from './proto-paths.js';
export * from './redis.module.js';
export * from './ticket-metrics.js';
