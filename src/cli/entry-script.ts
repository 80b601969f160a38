import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** True when the module at `moduleUrl` (its import.meta.url) is the script node was started with, not an import. */
export function isEntryScript(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    // import.meta.url names the resolved file, so compare with argv[1] resolved the same way.
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false; // argv[1] is not a file (node -e, a REPL): then the module was imported
  }
}
