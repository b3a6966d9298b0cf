export * from './tx-error.js';
export * from './tx-store.port.js';
export * from './fees.js';
export * from './tx-manager.js';
export * from './raw-rpc.js';
export * from './signer.js';
export * from './redemption-calls.js';
export * from './mining-delays.js';
