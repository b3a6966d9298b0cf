export * from './app-error.js';
export * from './config/index.js';
export * from './nest/index.js';
export * from './repo-root.js';
