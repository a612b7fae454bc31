/** The product's version, from package.json (two levels above both src/util and dist/util). */
import * as fs from 'fs';
import * as path from 'path';

let cached: string | undefined;

export function productVersion(): string {
  if (cached !== undefined) return cached;
  try {
    cached = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    cached = '0.0.0';
  }
  return cached;
}
