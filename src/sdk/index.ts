export { HttpClient, LatchkeyApiError, LatchkeyConnectionError, type ClientOptions, type Query } from './http.js';
export { LatchkeyAdmin } from './admin.js';
export { fetchPage, iteratePages, type PageOptions } from './pages.js';
export type { Page } from '../api/index.js';
export { LatchkeyRequestError, proxyPathProblem } from './paths.js';
export type * from './types.js';
export { Latchkey, UpstreamHttpError, isApiError, type ApiErrorCode, type Lease, type AgentIdentity, type InvokeOptions } from './agent.js';
