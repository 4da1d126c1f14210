/** Row ↔ domain mapping helpers shared by the repositories (rows never leave server/store). */
import type { HostDetails } from '../domain/types.js';

export function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export const parseDetails = (text: string): HostDetails => parseJson<HostDetails>(text, {});
