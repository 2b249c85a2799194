/** One sample of a node's `/metrics` (admin port), for multi-process tests. */

/** The value of `name{label}` on the node at `admin`, 0 when not (yet) exported. */
export async function metric(admin: string, name: string, label: string): Promise<number> {
  const text = await (await fetch(`http://${admin}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${label}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}
