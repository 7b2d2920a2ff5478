/** GET /v1/revocations query: an optional job status. */
export const revocationListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['pending', 'revoked', 'failed'] },
  },
} as const;
