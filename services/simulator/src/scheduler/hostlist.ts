/**
 * Slurm's compressed host list: names that differ only in their last run of digits (of one width) share a
 * bracket of ranges, `gpu[01-04,07]`; other names stand alone. Order: as Slurm prints it, by prefix, then number.
 */
export function compressHostlist(names: readonly string[]): string {
  const groups = new Map<string, { prefix: string; suffix: string; width: number; numbers: number[] }>();
  const plain: string[] = [];
  for (const name of new Set(names)) {
    const m = /^(.*?)(\d+)(\D*)$/.exec(name);
    if (!m) {
      plain.push(name);
      continue;
    }
    const [, prefix = '', digits = '', suffix = ''] = m;
    // a leading zero fixes the width; without one, every width joins the same group
    const width = digits.length > 1 && digits.startsWith('0') ? digits.length : 0;
    const key = `${prefix}\u0000${suffix}\u0000${width}`;
    const g = groups.get(key) ?? { prefix, suffix, width, numbers: [] };
    g.numbers.push(Number(digits));
    groups.set(key, g);
  }
  const parts = [...plain];
  for (const g of groups.values()) {
    const nums = [...new Set(g.numbers)].sort((a, b) => a - b);
    const pad = (n: number) => String(n).padStart(g.width, '0');
    if (nums.length === 1) {
      parts.push(`${g.prefix}${pad(nums[0] ?? 0)}${g.suffix}`);
      continue;
    }
    const ranges: string[] = [];
    for (let i = 0; i < nums.length;) {
      let j = i;
      while (j + 1 < nums.length && (nums[j + 1] ?? 0) === (nums[j] ?? 0) + 1) j++;
      ranges.push(i === j ? pad(nums[i] ?? 0) : `${pad(nums[i] ?? 0)}-${pad(nums[j] ?? 0)}`);
      i = j + 1;
    }
    parts.push(`${g.prefix}[${ranges.join(',')}]${g.suffix}`);
  }
  return parts.join(',');
}
