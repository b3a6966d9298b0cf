// Nest-free foundations shared by every library, including the pure protocol library.
export * from './app-error.js';
export * from './repo-root.js';
export * from './group-commit.js';
export * from './with-timeout.js';
export * from './repeat-notice.js';
export * from './safe-message.js';
