export * from './queue.module.js';
export * from './queues.js';
export * from './redemption-queue.js';
export * from './redemption-reconciler.js';
export * from './redemption.worker.js';
export * from './winning-ticket-intake.js';
export * from './queue-board.js';
export * from './standalone-queue.js';
