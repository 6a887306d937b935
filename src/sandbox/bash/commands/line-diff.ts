/**
 * Line diff (Myers' O(ND) algorithm) as the regions that differ, for `diff`'s output formats.
 * Gives up (returns null) past MAX_EDIT_DISTANCE, which bounds memory at a few MiB; the caller then
 * falls back to just-bash's own diff.
 */
export interface Change {
  /** Deleted lines are a[aStart, aEnd); inserted lines are b[bStart, bEnd). */
  aStart: number;
  aEnd: number;
  bStart: number;
  bEnd: number;
}

const MAX_EDIT_DISTANCE = 1500;

export function diffLines(a: readonly string[], b: readonly string[]): Change[] | null {
  // Common prefix and suffix never take part in an edit: trim them first.
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  ) {
    suffix++;
  }
  const n = a.length - prefix - suffix;
  const m = b.length - prefix - suffix;
  const at = (lines: readonly string[], i: number) => lines[prefix + i];

  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    if (d > MAX_EDIT_DISTANCE) return null;
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number))
          ? (v[offset + k + 1] as number)
          : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && at(a, x) === at(b, y)) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }

  // Walk the trace back from (n, m), collecting single-line edits in reverse.
  const edits: { kind: "del" | "ins"; a: number; b: number }[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const saved = trace[d] as Int32Array; // v before step d, indices -d-1 .. d+1
    const get = (k: number) => saved[k + d + 1] as number;
    const k = x - y;
    const down = k === -d || (k !== d && get(k - 1) < get(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = get(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
    }
    if (down) edits.push({ kind: "ins", a: x, b: prevY });
    else edits.push({ kind: "del", a: prevX, b: y });
    x = prevX;
    y = prevY;
  }
  edits.reverse();

  // Merge adjacent edits into change regions (deletions and insertions at one spot form one).
  const changes: Change[] = [];
  for (const edit of edits) {
    const aStart = prefix + edit.a;
    const bStart = prefix + edit.b;
    const last = changes.at(-1);
    const del = edit.kind === "del" ? 1 : 0;
    const ins = edit.kind === "ins" ? 1 : 0;
    if (last && last.aEnd === aStart && last.bEnd === bStart) {
      last.aEnd += del;
      last.bEnd += ins;
    } else {
      changes.push({ aStart, aEnd: aStart + del, bStart, bEnd: bStart + ins });
    }
  }
  return changes;
}
