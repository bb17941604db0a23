/**
 * The `htu` of a DPoP proof (RFC 9449 §4.2, §4.3 check 9): the request's URL without query and
 * fragment, compared after RFC 3986 §6.2.2 syntax-based and §6.2.3 scheme-based normalisation —
 * scheme and host in lower case, the default port dropped, an empty path as `/`, dot segments
 * removed (WHATWG URL does these), and percent-encodings in one form: an unreserved character
 * decoded, any other triplet in upper-case hex. A client builds its claim with it and a server
 * normalises both sides with it, so `https://API.example:443/a/%7eb?x#y` and
 * `https://api.example/a/~b` are the same target. Undefined for anything that is not an absolute
 * http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return `${url.protocol}//${url.host}${url.pathname.replace(/%[0-9a-fA-F]{2}/g, normalizeTriplet)}`;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

function normalizeTriplet(triplet: string): string {
  const character = String.fromCharCode(parseInt(triplet.slice(1), 16));
  return UNRESERVED.test(character) ? character : triplet.toUpperCase();
}
