/** This build's version: package.json's, read once (src/util and dist/util both sit two levels below it). */
import * as fs from 'fs';
import * as path from 'path';

let cached: string | undefined;

export function productVersion(): string {
  if (cached === undefined) {
    try {
      cached = String(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version ?? 'unknown');
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
