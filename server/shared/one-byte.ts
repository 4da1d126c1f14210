/**
 * Strings in V8's narrow form. V8 stores a string with one byte per character when every character is
 * Latin-1, but a string cut out of a text that holds any wider character stays two bytes per character,
 * whatever it holds: every key and value the yaml library reads from a policy.yaml with a "…" in one
 * comment. A resource or tier name in that form makes each verdict answer that carries it two-byte too,
 * and the answer is then flattened and converted character by character twice on its way out (for its
 * length and for the socket): about 5 % of the gateway's CPU per verdict, measured with perf.
 */
const LATIN1 = /^[\0-\xff]*$/;

/** The same text, as a one-byte string when every character is Latin-1 (otherwise `s` itself). */
export const oneByte = (s: string): string => (LATIN1.test(s) ? Buffer.from(s, 'latin1').toString('latin1') : s);
