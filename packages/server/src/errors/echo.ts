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
export const WITHHELD = '(not shown: it looks like a credential)';

export function echo(value: string, max = ECHO_MAX_CHARS): string {
  if (looksLikeCredential(value)) return WITHHELD;
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length} characters)`;
}

/**
 * Linear in the value's length, whatever it holds. The single-regex form of these shapes (a run
 * with lookaheads for a digit and a letter) rescanned the rest of the run from every position:
 * found by the attack probe's 4 MB field name, which held the admin API for minutes, and a 16 kB
 * audience cost ~0.6 s of CPU per token request. Each regex below matches runs without
 * overlapping (global flag), and each run is then checked once.
 */
function looksLikeCredential(value: string): boolean {
  if (value.includes('m2msk_')) return true;
  for (const match of value.matchAll(/eyJ[\w-]*/g)) if (value[match.index + match[0].length] === '.') return true;
  for (const [run] of value.matchAll(/[A-Za-z0-9_+/=-]{24,}/g)) if (/\d/.test(run) && /[A-Za-z]/.test(run)) return true;
  return false;
}
