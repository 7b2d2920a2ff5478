export { HttpClient, LatchkeyApiError, LatchkeyConnectionError, type ClientOptions, type Query } from './http.js';
export { LatchkeyAdmin } from './admin.js';
export type * from './types.js';
