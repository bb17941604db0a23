/**
 * The one way a value the client sent may appear in an error description or a log line: cut to
 * a short bound, so a pasted document (or a 5,000-character audience) is not sent back whole and
 * a failed request costs the log a bounded line. Only for fields that identify something the
 * client asked for (audience, scope); never for a field that may hold a secret by mistake
 * (grant_type, client_id before authentication, any credential), which are not echoed at all.
 */
export const ECHO_MAX_CHARS = 64;

/**
 * Values shaped like a credential are not echoed even from those fields (found by the fuzzer: a
 * client secret sent as the audience came back in "Unknown API: …"): our client secrets, JWTs,
 * and long unbroken runs of letters and digits such as API keys. An API identifier or a scope
 * (URLs, `read:orders`) does not look like that.
 */
const CREDENTIAL_SHAPES = [/m2msk_/, /eyJ[\w-]*\.[\w-]*/, /(?=[A-Za-z0-9_+/=-]*\d)(?=[A-Za-z0-9_+/=-]*[A-Za-z])[A-Za-z0-9_+/=-]{24,}/];
export const WITHHELD = '(not shown: it looks like a credential)';

export function echo(value: string, max = ECHO_MAX_CHARS): string {
  if (CREDENTIAL_SHAPES.some((shape) => shape.test(value))) return WITHHELD;
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length} characters)`;
}
