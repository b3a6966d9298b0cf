export * from './infrastructure.js';
export * from './run-service.js';
