export * from './schemas.js';
export * from './revocations.js';
