export * from './queue.module.js';
export * from './queues.js';
export * from './redemption-queue.js';
export * from './winning-ticket-intake.js';
