/** A URL or path without its trailing slashes (`https://a.example//` → `https://a.example`). */
export const withoutTrailingSlashes = (value: string): string => value.replace(/\/+$/, '');

/** A provider's host as an origin: `tenant.auth0.com` → `https://tenant.auth0.com`; an http(s) URL is kept. */
export const httpsOrigin = (domain: string): string =>
  /^https?:\/\//.test(domain) ? withoutTrailingSlashes(domain) : `https://${withoutTrailingSlashes(domain)}`;
