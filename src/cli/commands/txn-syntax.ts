/**
 * The text form of a transaction read by `meshos kv txn`, one item per line:
 *
 *   compares        value("key") = "v"   version("key") > "0"   create / mod / lease likewise
 *   (blank line)
 *   success ops     put KEY VALUE [--lease=ID] | get KEY [--prefix] | del KEY [--prefix]
 *   (blank line)
 *   failure ops
 *
 * Words may be double-quoted (with \" and \\ escapes). Pure: text in, request out.
 */
import type { CompareOperator, CompareTarget, TxnCompare, TxnOp, TxnRequest } from '../../client/index.js';
import { UsageError } from './common.js';

/** Most lines a transaction script may have (the node refuses bigger transactions anyway). */
export const MAX_TXN_SCRIPT_LINES = 1_024;

const TARGETS: Readonly<Record<string, CompareTarget>> = {
  value: 'value',
  val: 'value',
  version: 'version',
  ver: 'version',
  create: 'create',
  c: 'create',
  mod: 'mod',
  m: 'mod',
  lease: 'lease',
};

const OPERATORS: ReadonlySet<string> = new Set(['=', '!=', '<', '>']);

/** Splits a line into words; quoted words keep their spaces. */
export function splitWords(line: string, lineNumber: number): string[] {
  const words: string[] = [];
  let index = 0;
  while (index < line.length) {
    const char = line[index];
    if (char === ' ' || char === '\t') {
      index++;
      continue;
    }
    if (char === '"') {
      let word = '';
      index++;
      for (;;) {
        if (index >= line.length) throw new UsageError(`txn line ${lineNumber}: unterminated quote`);
        const next = line[index];
        if (next === '"') break;
        if (next === '\\' && index + 1 < line.length) {
          word += line[index + 1];
          index += 2;
          continue;
        }
        word += next;
        index++;
      }
      index++;
      words.push(word);
      continue;
    }
    let end = index;
    while (end < line.length && line[end] !== ' ' && line[end] !== '\t') end++;
    words.push(line.slice(index, end));
    index = end;
  }
  return words;
}

const COMPARE_PATTERN = /^\s*([a-z]+)\(\s*("(?:[^"\\]|\\.)*"|[^)\s]+)\s*\)\s*(!=|=|<|>)\s*(.*?)\s*$/;

export function parseCompare(line: string, lineNumber: number): TxnCompare {
  const match = COMPARE_PATTERN.exec(line);
  if (match === null)
    throw new UsageError(`txn line ${lineNumber}: expected a compare like value("key") = "v"`);
  const [, targetName = '', keyText = '', operator = '', operandText = ''] = match;
  const target = TARGETS[targetName];
  if (target === undefined)
    throw new UsageError(`txn line ${lineNumber}: unknown compare target '${targetName}'`);
  if (!OPERATORS.has(operator))
    throw new UsageError(`txn line ${lineNumber}: unknown operator '${operator}'`);
  const [key] = splitWords(keyText, lineNumber);
  const operandWords = splitWords(operandText, lineNumber);
  if (key === undefined || operandWords.length !== 1) {
    throw new UsageError(`txn line ${lineNumber}: a compare needs one key and one operand`);
  }
  const operand = operandWords[0] ?? '';
  if (target !== 'value' && !/^\d+$/.test(operand)) {
    throw new UsageError(`txn line ${lineNumber}: ${target} compares need a number, got '${operand}'`);
  }
  return {
    key,
    target,
    operator: operator as CompareOperator,
    operand: target === 'value' ? operand : Number(operand),
  };
}

export function parseOp(line: string, lineNumber: number): TxnOp {
  const words = splitWords(line, lineNumber);
  const flags = words.filter((word) => word.startsWith('--'));
  const args = words.filter((word) => !word.startsWith('--'));
  const [verb, key, value, ...extra] = args;
  const bad = (problem: string): UsageError => new UsageError(`txn line ${lineNumber}: ${problem}`);
  if (key === undefined) throw bad(`'${verb ?? ''}' needs a key`);
  switch (verb) {
    case 'put': {
      if (value === undefined || extra.length > 0) throw bad('put takes KEY VALUE');
      let lease: number | undefined;
      for (const flag of flags) {
        const leaseMatch = /^--lease=(0x[0-9a-f]+|\d+)$/i.exec(flag);
        if (leaseMatch === null) throw bad(`unknown put flag ${flag}`);
        const text = leaseMatch[1] ?? '0';
        lease = text.toLowerCase().startsWith('0x') ? Number.parseInt(text.slice(2), 16) : Number(text);
      }
      return lease === undefined
        ? { type: 'put', key, value }
        : { type: 'put', key, value, options: { lease } };
    }
    case 'get':
    case 'del': {
      if (value !== undefined) throw bad(`${verb} takes one KEY`);
      let prefix = false;
      for (const flag of flags) {
        if (flag !== '--prefix') throw bad(`unknown ${verb} flag ${flag}`);
        prefix = true;
      }
      const type = verb === 'get' ? 'range' : 'delete';
      return prefix ? { type, key, options: { prefix } } : { type, key };
    }
    default:
      throw bad(`unknown operation '${verb}' (put, get or del)`);
  }
}

/** Parses a whole script; a missing section is empty. */
export function parseTxnScript(text: string): TxnRequest {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines.length > MAX_TXN_SCRIPT_LINES) {
    throw new UsageError(`txn script has more than ${MAX_TXN_SCRIPT_LINES} lines`);
  }
  const sections: Array<Array<{ line: string; number: number }>> = [[], [], []];
  let section = 0;
  lines.forEach((line, index) => {
    if (line.trim() === '') {
      // A blank line closes a section; blank lines after the failure section are ignored.
      if (section < 2) section++;
      return;
    }
    sections[section]?.push({ line, number: index + 1 });
  });
  const [compares = [], success = [], failure = []] = sections;
  return {
    compare: compares.map((entry) => parseCompare(entry.line, entry.number)),
    success: success.map((entry) => parseOp(entry.line, entry.number)),
    failure: failure.map((entry) => parseOp(entry.line, entry.number)),
  };
}
