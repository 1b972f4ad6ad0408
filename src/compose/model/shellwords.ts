// Splits a `command:`/`entrypoint:` string into words the way Compose does (mattn/go-shellwords
// without variable expansion, which interpolation already did): blanks separate words, single
// quotes keep everything, double quotes keep all but `\"`, `\\`, `\$` and `` \` ``, a backslash
// outside quotes escapes the next character.

import { ComposeError } from './types.ts';

export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '' | "'" | '"' = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = '';
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = '';
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) word += line[++i];
      else word += c;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'" || c === '"') quote = c;
    else if (c === '\\') {
      if (i + 1 < line.length) word += line[++i];
    } else word += c;
  }
  if (quote !== '') throw new ComposeError(`invalid command line string: ${line}`);
  if (inWord) words.push(word);
  return words;
}
