// Reads kube-proxy's `/metrics` (Prometheus text exposition): its histograms, what they counted
// between two scrapes, their quantiles as PromQL computes them, and plain gauge samples.
export interface Histogram {
  buckets: { le: number; count: number }[]; // cumulative, sorted by le, +Inf last as Infinity
  sum: number;
  count: number;
}

// Why: a scale run reads kube-proxy's network-programming and sync-round histograms from each scrape.
// Every series of `name` whose labels include `labels` is summed bucket by bucket, as PromQL's
// `sum by (le)` would: with no labels, kube-proxy's IPv4 and IPv6 series become one histogram
// (pass { ip_family: 'IPv4' } for one family). undefined when no series matches.
export function parseHistogram(
  exposition: string,
  name: string,
  labels: Record<string, string> = {},
): Histogram | undefined {
  const wanted = Object.entries(labels);
  const byLe = new Map<number, number>();
  let sum = 0;
  let count = 0;
  let found = false;
  for (const sample of samplesOf(exposition, name)) {
    if (!wanted.every(([key, value]) => sample.labels[key] === value)) continue;
    if (sample.name === `${name}_bucket`) {
      const le = parseValue(sample.labels.le ?? '');
      if (Number.isNaN(le)) continue;
      byLe.set(le, (byLe.get(le) ?? 0) + sample.value);
      found = true;
    } else if (sample.name === `${name}_sum`) {
      sum += sample.value;
      found = true;
    } else if (sample.name === `${name}_count`) {
      count += sample.value;
      found = true;
    }
  }
  if (!found) return undefined;
  const buckets = [...byLe].map(([le, n]) => ({ le, count: n })).sort((a, b) => a.le - b.le);
  return { buckets, sum, count };
}

// Why: kube-proxy's histograms count from its start; a run wants what it observed between two
// scrapes. Buckets are matched by le (one missing before counts 0 there). A count that went down
// means kube-proxy restarted in between: `after` is then all that is known, as PromQL's rate assumes.
export function histogramDelta(before: Histogram | undefined, after: Histogram): Histogram {
  if (!before || after.count < before.count) return after;
  const previous = new Map(before.buckets.map((bucket) => [bucket.le, bucket.count]));
  return {
    buckets: after.buckets.map(({ le, count }) => ({ le, count: count - (previous.get(le) ?? 0) })),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

// Why: the run reports p50/p99 the way a Prometheus dashboard would show them. PromQL's
// histogram_quantile (bucketQuantile): linear interpolation inside the bucket the rank falls in
// (from 0 for the first bucket, unless its le is ≤ 0); the highest finite le when it falls in the
// +Inf bucket. undefined where PromQL answers NaN: no observations, no +Inf bucket, under 2 buckets.
export function histogramQuantile(q: number, h: Histogram): number | undefined {
  if (Number.isNaN(q)) return undefined;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const buckets = coalesced(h.buckets);
  if (buckets.length < 2 || buckets[buckets.length - 1].le !== Infinity) return undefined;
  // Bucket counts scraped while kube-proxy observes can disagree slightly: PromQL forces them monotonic.
  for (let i = 1; i < buckets.length; i++) buckets[i].count = Math.max(buckets[i].count, buckets[i - 1].count);
  const observations = buckets[buckets.length - 1].count;
  if (observations === 0) return undefined;
  let rank = q * observations;
  let b = buckets.findIndex((bucket) => bucket.count >= rank);
  if (b < 0 || b === buckets.length - 1) return buckets[buckets.length - 2].le;
  if (b === 0 && buckets[0].le <= 0) return buckets[0].le;
  let start = 0;
  let count = buckets[b].count;
  if (b > 0) {
    start = buckets[b - 1].le;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  const value = start + (buckets[b].le - start) * (rank / count);
  return Number.isNaN(value) ? undefined : value;
}

// Why: kube-proxy's last sync time (its health) and memory (a scale run) are gauges: the first
// sample of `name` carrying all the given labels; undefined when there is none.
export function gaugeValue(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels);
  for (const sample of samplesOf(exposition, name)) {
    if (sample.name === name && wanted.every(([key, value]) => sample.labels[key] === value)) return sample.value;
  }
  return undefined;
}

/** kube-proxy's resident memory in bytes, from the Go client's process collector. */
export function residentMemoryBytes(exposition: string): number | undefined {
  return gaugeValue(exposition, 'process_resident_memory_bytes');
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

// The samples whose metric name is `prefix` or starts with it (name_bucket, name_sum, …); comment
// lines (# HELP, # TYPE) and everything else are skipped without being parsed.
function* samplesOf(exposition: string, prefix: string): Generator<Sample> {
  let from = 0;
  while (from < exposition.length) {
    let end = exposition.indexOf('\n', from);
    if (end < 0) end = exposition.length;
    if (exposition.startsWith(prefix, from)) {
      const sample = parseSample(exposition.slice(from, end));
      if (sample) yield sample;
    }
    from = end + 1;
  }
}

// `name{a="x",le="0.5"} 3 [timestamp]`; label values may hold \" \\ \n escapes, commas and braces.
function parseSample(line: string): Sample | undefined {
  const nameEnd = line.search(/[{\s]/);
  if (nameEnd <= 0) return undefined;
  const labels: Record<string, string> = {};
  let i = nameEnd;
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') break;
      const eq = line.indexOf('=', i);
      if (eq < 0 || line[eq + 1] !== '"') return undefined;
      const key = line.slice(i, eq).trim();
      let value = '';
      let j = eq + 2;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length) {
          j++;
          value += line[j] === 'n' ? '\n' : line[j];
        } else value += line[j];
      }
      if (j >= line.length) return undefined;
      labels[key] = value;
      i = j + 1;
    }
    i++;
  }
  const [valueText] = line.slice(i).trim().split(/\s+/, 1);
  if (!valueText) return undefined;
  const value = parseValue(valueText);
  return Number.isNaN(value) && valueText !== 'NaN' ? undefined : { name: line.slice(0, nameEnd), labels, value };
}

// Prometheus writes +Inf, -Inf and NaN for the special values; Number() reads the rest (1e-05 too).
function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return text === '' ? NaN : Number(text);
}

// Buckets sorted by le with equal bounds merged (PromQL's coalesceBuckets), as a fresh copy.
function coalesced(buckets: Histogram['buckets']): Histogram['buckets'] {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const merged: Histogram['buckets'] = [];
  for (const { le, count } of sorted) {
    const last = merged[merged.length - 1];
    if (last && last.le === le) last.count += count;
    else merged.push({ le, count });
  }
  return merged;
}
