import { InvalidRequest } from '../errors.js';
import type { ProviderQuirks } from './types.js';
import { checkEndpointUrl } from './urls.js';

/**
 * Validates a provider's `quirks` object: known keys with their types only, so
 * nothing unvalidated is stored. URL-valued quirks follow the endpoint rules
 * (https, http only to loopback when allowed, no credentials); field names and
 * token parameters have the shape a token response or form member has.
 */
export function checkQuirks(raw: unknown, allowHttpLoopback: boolean): ProviderQuirks {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidRequest('quirks must be an object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!Object.hasOwn(CHECKS, key)) throw new InvalidRequest(`quirks.${key} is not a known quirk`);
    out[key] = CHECKS[key as keyof ProviderQuirks](`quirks.${key}`, value, allowHttpLoopback);
  }
  return out as ProviderQuirks;
}

type Check = (field: string, value: unknown, allowHttpLoopback: boolean) => unknown;

/** A token response member or form parameter name (`instance_url`, `user_scope`). */
const FIELD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** A dotted path of member names (`authed_user`). */
const FIELD_PATH = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$/;

function noControl(value: string): boolean {
  return ![...value].some((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === '\u007f');
}

const flag: Check = (field, value) => {
  if (typeof value !== 'boolean') throw new InvalidRequest(`${field} must be true or false`);
  return value;
};

const separator: Check = (field, value) => {
  if (typeof value !== 'string' || value.length < 1 || value.length > 4 || !noControl(value)) {
    throw new InvalidRequest(`${field} must be 1 to 4 characters`);
  }
  return value;
};

function seconds(nullable: boolean): Check {
  return (field, value) => {
    if (nullable && value === null) return null;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > 10 * 365 * 86400) {
      throw new InvalidRequest(`${field} must be a whole number of seconds up to ten years${nullable ? ', or null' : ''}`);
    }
    return value;
  };
}

function name(pattern: RegExp, shape: string): Check {
  return (field, value) => {
    if (typeof value !== 'string' || !pattern.test(value)) throw new InvalidRequest(`${field} must be ${shape}`);
    return value;
  };
}

const fieldName = name(FIELD_NAME, 'a member name (letters, digits, "_", ".", "-")');

const params: Check = (field, value) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidRequest(`${field} must be an object`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 20) throw new InvalidRequest(`${field} has more than 20 entries`);
  for (const [k, v] of entries) {
    if (!FIELD_NAME.test(k)) throw new InvalidRequest(`${field}: "${k}" is not a parameter name`);
    if (typeof v !== 'string' || v.length > 1000 || !noControl(v)) {
      throw new InvalidRequest(`${field}.${k} must be a string of at most 1000 characters without control characters`);
    }
  }
  return { ...(value as Record<string, string>) };
};

const bearerOnly: Check = (field, value) => {
  if (value !== 'bearer') throw new InvalidRequest(`${field} must be "bearer"`);
  return value;
};

const aliases: Check = (field, value) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidRequest(`${field} must be an object`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 20) throw new InvalidRequest(`${field} has more than 20 entries`);
  for (const [k, v] of entries) {
    if (!FIELD_NAME.test(k)) throw new InvalidRequest(`${field}: "${k}" is not a token type name`);
    bearerOnly(`${field}.${k}`, v, false);
  }
  return { ...(value as Record<string, 'bearer'>) };
};

const CHECKS: Record<keyof ProviderQuirks, Check> = {
  errorInSuccessfulTokenResponse: flag,
  tokenScopeSeparator: separator,
  authorizeScopeSeparator: separator,
  defaultExpiresIn: seconds(true),
  rotatesRefreshTokens: flag,
  tokenRequestAcceptJson: flag,
  tokenResponseRoot: name(FIELD_PATH, 'a dotted path of member names'),
  tokenParams: params,
  refreshTokenLifetime: seconds(false),
  authorizeScopeParam: fieldName,
  // Where refresh tokens are posted: the same rules as tokenEndpoint.
  refreshEndpoint: (field, value, allowHttpLoopback) => {
    if (typeof value !== 'string') throw new InvalidRequest(`${field} must be a URL`);
    return checkEndpointUrl(field, value, allowHttpLoopback).href;
  },
  // A member of the token response (Salesforce: instance_url); the URL it holds is checked when it arrives.
  instanceUrlField: fieldName,
  unboundCallback: flag,
  tokenTypeAliases: aliases,
  defaultTokenType: bearerOnly,
  relaySetCookie: flag,
  notes: (field, value) => {
    if (typeof value !== 'string' || value.length > 2000) throw new InvalidRequest(`${field} must be text of at most 2000 characters`);
    return value;
  },
};
