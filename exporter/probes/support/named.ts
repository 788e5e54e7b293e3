// Named values a check defines itself (sql and promql queries, metrics values) become threshold
// keys and `name` labels, so names must be unique and must not shadow the check's own duration.
type Problem = [Array<string | number>, string];

export function namedValueProblems(items: Array<{ name: string }>, field: string, what: string): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) problems.push([[field, i, 'name'], `duplicate ${what} name "${item.name}"`]);
    if (item.name === 'response_time') problems.push([[field, i, 'name'], '"response_time" is reserved (the check\'s own duration)']);
    seen.add(item.name);
  });
  return problems;
}
