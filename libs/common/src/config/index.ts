export * from './config-class.js';
export * from './config-error.js';
export * from './env-schema.js';
export * from './infra-env.js';
export * from './parsers.js';
