export * from './redeemer.error.js';
export * from './redeemer-ops.contract.js';
export * from './redeemer-ops.client.js';
