export * from './infrastructure.js';
export * from './run-service.js';
export * from './grpc-errors.js';
export * from './http-errors.js';
export * from './bearer-token.js';
