export * from './data-source.js';
export * from './database.module.js';
export * from './entities/winning-ticket.entity.js';
export * from './transformers.js';
export * from './winning-ticket.repository.js';
