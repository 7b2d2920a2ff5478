/** The package version, answered by `latchkey --version` and `GET /v1/status` (a test keeps it equal to package.json's). */
export const LATCHKEY_VERSION = '0.1.0';
