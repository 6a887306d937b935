/**
 * The console's static assets, served by the Worker itself under /console/assets/ (no CDN, no build
 * step). Each URL carries a hash of its content, so browsers may cache it for a year: a new
 * deployment with a changed file gets a new URL.
 */
import { CONSOLE_CSS } from "./console-css.ts";
import { CONSOLE_JS } from "./console-js.ts";

export interface Asset {
  body: string;
  contentType: string;
}

/** FNV-1a (32-bit) of the text, in hex: enough to tell two versions of one file apart. */
function contentHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

function named(stem: string, extension: string, body: string, contentType: string): [string, Asset] {
  return [`${stem}.${contentHash(body)}.${extension}`, { body, contentType }];
}

const ASSETS = new Map<string, Asset>([
  named("console", "css", CONSOLE_CSS, "text/css; charset=utf-8"),
  named("console", "js", CONSOLE_JS, "text/javascript; charset=utf-8"),
]);

const names = [...ASSETS.keys()];

/** The URLs pages link to. */
export const ASSET_URLS = {
  css: `/console/assets/${names.find((name) => name.endsWith(".css"))}`,
  js: `/console/assets/${names.find((name) => name.endsWith(".js"))}`,
};

export function findAsset(file: string): Asset | undefined {
  return ASSETS.get(file);
}
