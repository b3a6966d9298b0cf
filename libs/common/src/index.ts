export * from '#app/core';
export * from './config/index.js';
export * from './nest/index.js';
export * from './dev/local-stack-env.js';
