import { pagedQuery } from './paging.js';

/** GET /v1/revocations query: an optional job status, and the page. */
export const revocationListQuery = pagedQuery({
  status: { type: 'string', enum: ['pending', 'revoked', 'failed'] },
});
