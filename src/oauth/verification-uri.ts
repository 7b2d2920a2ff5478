import { getDomain } from 'tldts';
import { UpstreamError } from '../errors.js';
import { isLoopbackHost } from '../providers/index.js';

/**
 * RFC 8628 §3.2's `verification_uri` is shown to a person, who will open it
 * and type a code: it must be an https page (http only on loopback in
 * development) on the provider's own registrable domain, never a
 * `javascript:` URL or another site's sign-in page.
 */
export function checkVerificationUri(value: string, deviceEndpoint: string, allowHttpLoopback: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UpstreamError('the provider’s verification_uri is not a URL');
  }
  const loopback = isLoopbackHost(url.hostname);
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback && allowHttpLoopback))) {
    throw new UpstreamError(`the provider’s verification_uri must be an https URL (not ${url.protocol.replace(':', '')})`);
  }
  if (url.username !== '' || url.password !== '') throw new UpstreamError('the provider’s verification_uri carries credentials');
  const endpointHost = new URL(deviceEndpoint).hostname;
  const site = (host: string) => getDomain(host) ?? host;
  if (site(url.hostname) !== site(endpointHost)) {
    throw new UpstreamError(`the provider’s verification_uri is on ${url.hostname}, not on the provider’s own domain (${site(endpointHost)})`);
  }
  return url.href;
}
