/**
 * The remediation page's stylesheet and script: real files (assets/page.css, assets/page.js; the script is
 * type-checked as browser code by assets/tsconfig.json), read once and served under content-hashed names,
 * /device/assets/page.<sha256 prefix>.css|js, with a year-long immutable cache. A changed file gets a new
 * name, so a browser never runs an old script against a new page. Both load under the page's strict CSP
 * (`script-src 'self'`, `style-src 'self'`): nothing inline.
 */
import fs from 'node:fs';
import { sha256Hex } from '../shared/crypto.js';

export interface PageAsset {
  /** The URL path, with the content hash in the name. */
  path: string;
  contentType: string;
  body: string;
}

export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

function load(ext: 'css' | 'js', contentType: string): PageAsset {
  const body = fs.readFileSync(new URL(`./assets/page.${ext}`, import.meta.url), 'utf8');
  return { path: `/device/assets/page.${sha256Hex(body).slice(0, 16)}.${ext}`, contentType, body };
}

/** The stylesheet and the script, by their hashed paths. */
export const PAGE_CSS = load('css', 'text/css; charset=utf-8');
export const PAGE_JS = load('js', 'application/javascript; charset=utf-8');
export const PAGE_ASSETS: readonly PageAsset[] = [PAGE_CSS, PAGE_JS];
