/**
 * The one way a value the client sent may appear in an error description or a log line: cut to
 * a short bound, so a pasted document (or a 5,000-character audience) is not sent back whole and
 * a failed request costs the log a bounded line. Only for fields that identify something the
 * client asked for (audience, scope); never for a field that may hold a secret by mistake
 * (grant_type, client_id before authentication, any credential), which are not echoed at all.
 */
export const ECHO_MAX_CHARS = 64;

export function echo(value: string, max = ECHO_MAX_CHARS): string {
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length} characters)`;
}
