import { ContractViolation } from '@busway/runtime';

/** Thrown when a Slurm host list does not follow the hostlist grammar, or expands past the limit. */
export class HostlistError extends ContractViolation {}

/** Most hosts one list may expand to: a bound on memory for a list that is wrong or hostile. */
export const MAX_HOSTS = 65_536;

/** Splits at commas and blanks outside brackets. */
function items(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of list) {
    if (c === '[') depth++;
    if (c === ']') depth--;
    if (depth < 0) throw new HostlistError(`'${list}': ']' without '['`);
    if (depth === 0 && (c === ',' || c === ' ' || c === '\t' || c === '\n')) {
      if (current !== '') out.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  if (depth !== 0) throw new HostlistError(`'${list}': '[' without ']'`);
  if (current !== '') out.push(current);
  return out;
}

/** The values of one bracket: `01-04,07` → 01 02 03 04 07, each zero-padded to the width of its lower bound. */
function bracketValues(inner: string, list: string, budget: number): string[] {
  const values: string[] = [];
  for (const part of inner.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new HostlistError(`'${list}': '${part}' is not a number or a range`);
    const [, loText = '', hiText] = m;
    const lo = Number(loText);
    const hi = hiText === undefined ? lo : Number(hiText);
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo)
      throw new HostlistError(`'${list}': range '${part}' runs backwards or is too large`);
    if (values.length + (hi - lo + 1) > budget)
      throw new HostlistError(`'${list}' expands to more than ${MAX_HOSTS} hosts`);
    const width = loText.length;
    for (let n = lo; n <= hi; n++) values.push(String(n).padStart(width, '0'));
  }
  return values;
}

/** One item with any number of brackets (`rack[1-2]-gpu[01-04]`): the product of its brackets, in order. */
function expandItem(item: string, list: string, budget: number): string[] {
  let names = [''];
  let rest = item;
  while (rest !== '') {
    const open = rest.indexOf('[');
    if (open < 0) {
      if (rest.includes(']')) throw new HostlistError(`'${list}': ']' without '['`);
      names = names.map((n) => n + rest);
      break;
    }
    const close = rest.indexOf(']', open);
    const literal = rest.slice(0, open);
    const inner = rest.slice(open + 1, close);
    if (close < 0 || inner.includes('[')) throw new HostlistError(`'${list}': brackets do not nest`);
    const values = bracketValues(inner, list, budget);
    if (names.length * values.length > budget)
      throw new HostlistError(`'${list}' expands to more than ${MAX_HOSTS} hosts`);
    names = names.flatMap((n) => values.map((v) => n + literal + v));
    rest = rest.slice(close + 1);
  }
  return names;
}

/**
 * Expands a Slurm host list (`gpu[01-04,07],cpu1`, `rack[1-2]-n[1-3]`) into host names, in Slurm's order,
 * without repeats. Throws HostlistError on a list that breaks the grammar or names more than MAX_HOSTS.
 */
export function expandHostlist(list: string): string[] {
  const out = new Set<string>();
  for (const item of items(list.trim())) {
    for (const name of expandItem(item, list, MAX_HOSTS - out.size)) out.add(name);
    if (out.size > MAX_HOSTS) throw new HostlistError(`'${list}' expands to more than ${MAX_HOSTS} hosts`);
  }
  return [...out];
}
