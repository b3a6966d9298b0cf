export * from './anvil.js';
export * from './grpc-health.js';
export * from './ports.js';
export * from './service-process.js';
export * from './rpc-proxy.js';
export * from './stores.js';
export * from './private-postgres.js';
export * from './postgres-binaries.js';
