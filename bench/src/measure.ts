/** Samples per second of `step` over `messages`, run for about `ms` after a warm-up. */
export function throughput(
  messages: Uint8Array[],
  samplesPerMessage: number,
  ms: number,
  step: (m: Uint8Array) => void,
): number {
  const deadline = performance.now() + ms;
  let done = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let i = 0; i < 64; i++) step(messages[(done + i) % messages.length] as Uint8Array);
    done += 64;
  }
  return (done * samplesPerMessage) / ((performance.now() - start) / 1000);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
