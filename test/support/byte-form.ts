/**
 * How V8 holds a string now, one or two bytes per character, observed through the V8 serializer: it
 * writes a one-byte string with the tag '"' (0x22) and a two-byte one with 'c' (0x63).
 */
import v8 from 'node:v8';

export function byteForm(s: string): 'one' | 'two' {
  const tag = v8.serialize(s)[2];
  if (tag === 0x22) return 'one';
  if (tag === 0x63) return 'two';
  throw new Error(`unexpected serializer tag ${String(tag)}`);
}
