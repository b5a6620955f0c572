interface Node {
  children: Map<string, Node>;
  terminal: boolean;
}

const node = (): Node => ({ children: new Map(), terminal: false });

/**
 * Subjects by token, so a NATS pattern (`uns.v1.ai1.*.*.*.cdu.>`) is matched by walking only the branches it
 * can reach, not by testing every known subject.
 */
export class SubjectTrie {
  private readonly root = node();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(subject: string): void {
    let n = this.root;
    for (const t of subject.split('.')) {
      let next = n.children.get(t);
      if (!next) n.children.set(t, (next = node()));
      n = next;
    }
    if (!n.terminal) this.count++;
    n.terminal = true;
  }

  /** Subjects matching `pattern`, at most `max` of them (in no particular order). */
  match(pattern: string, max = Number.POSITIVE_INFINITY): string[] {
    const tokens = pattern.split('.');
    const out: string[] = [];
    const walk = (n: Node, i: number, prefix: string[]): void => {
      if (out.length >= max) return;
      if (i === tokens.length) {
        if (n.terminal) out.push(prefix.join('.'));
        return;
      }
      const t = tokens[i] as string;
      if (t === '>') {
        for (const [k, c] of n.children) collect(c, [...prefix, k]);
        return;
      }
      if (t === '*') {
        for (const [k, c] of n.children) walk(c, i + 1, [...prefix, k]);
        return;
      }
      const c = n.children.get(t);
      if (c) walk(c, i + 1, [...prefix, t]);
    };
    const collect = (n: Node, prefix: string[]): void => {
      if (out.length >= max) return;
      if (n.terminal) out.push(prefix.join('.'));
      for (const [k, c] of n.children) collect(c, [...prefix, k]);
    };
    walk(this.root, 0, []);
    return out;
  }
}
