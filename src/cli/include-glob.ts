/**
 * `--include` patterns with the semantics of `huggingface-cli download --include` (Python's
 * fnmatch): `*` matches any run of characters, `/` included, so `*.gguf` finds nested files too;
 * `?` one character; `[abc]` / `[!abc]` a set. A pattern ending in `/` means everything under
 * that folder, as in huggingface_hub.
 */
export function globToRegExp(pattern: string): RegExp {
  const source = pattern.endsWith('/') ? `${pattern}*` : pattern;
  let regex = '';
  for (let index = 0; index < source.length; index += 1) {
    const character = source[index];
    if (character === '*') regex += '.*';
    else if (character === '?') regex += '.';
    else if (character === '[') {
      const end = source.indexOf(']', index + 2);
      if (end === -1) {
        regex += '\\[';
        continue;
      }
      let set = source.slice(index + 1, end);
      if (set.startsWith('!')) set = `^${set.slice(1)}`;
      regex += `[${set.replace(/\\/g, '\\\\')}]`;
      index = end;
    } else regex += character.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${regex}$`, 's');
}

export function matchesAnyGlob(path: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => globToRegExp(pattern).test(path));
}
