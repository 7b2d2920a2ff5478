export * from './schemas.js';
export * from './names.js';
