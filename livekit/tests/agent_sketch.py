# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""What the Datadog Agent does with a non-monotonic histogram bucket, rewritten in Python for tests.

This is our own code, written from a reading of the Agent's sources (nothing copied). It follows:

- datadog-agent `rtloader/common/builtins/aggregator.c`, `submit_histogram_bucket`: the bounds are
  parsed with `PyArg_ParseTuple(..., "OssLffisO", ...)`, i.e. as C `float`, so they reach Go
  rounded to float32 (`pkg/collector/python/aggregator.go`, `SubmitHistogramBucket`, takes
  `C.float` bounds) -> `rtloader_bounds`.
- datadog-agent `pkg/aggregator/check_sampler.go`, `CheckSampler.addBucket` (read at commits
  000ac37e7726379a532bb65ed899fabed2f8481a and 9ffdcef5510c008dfb3bc9373dfbd8abb3bc7d5b): a
  count <= 0 or a negative range is dropped; a non-monotonic bucket is not looked up by context
  at all; an upper bound of +Inf becomes [lower, lower]; then `sketchMap.insertInterp`
  (`pkg/aggregator/sketch_map.go`) calls `quantile.Agent.InsertInterpolate` -> `add_bucket`.
- DataDog/opentelemetry-mapping-go `pkg/quantile` at commit
  df97a19515da669eb403bfc2964ffe1258dc41cd (the package the Agent imports; older Agents carry the
  same code in datadog-agent `pkg/quantile`):
  - `config.go` `Default`/`refresh`: eps = 1/128, gamma = 1 + 2 * eps = 1.015625,
    ln(gamma) = log1p(2 * eps), min value 1e-9, bias = 1 - floor(log_gamma(1e-9));
    `key`: round-half-even(log_gamma(v)) + bias, 0 for v < gamma**(1 - bias), +Inf key past
    maxKey = 2**15 - 2, never below 1; `binLow`/`f64`: gamma ** (k - bias).
  - `agent.go` `Agent.InsertInterpolate` -> `AgentSketch.insert_interpolate`.
  - `ddsketch.go` `Sketch.Quantile` and `rank` -> `AgentSketch.quantile`.
  - `summary/summary.go` `Summary.InsertN`/`Merge`: min, max, sum and count (sum / count is the
    average Datadog shows) -> `AgentSketch.min`, `max`, `sum`, `cnt`.
  - `bin.go` `appendSafe`: a bin holds at most 65535, larger counts take several bins of the same
    key (remainder first) -> `AgentSketch.bins`.

Not ported: `trimLeft` (only with more than 4096 bins; 0.05 s to 5 s needs about 300) and the
negative-value paths (latencies are >= 0). Merging sketches (`sparseStore.merge`) adds the counts of
equal keys, so sketches are merged here by adding counts; this matches the Agent exactly as long as
no key holds more than 65535, which the tests stay under.
"""

import math
import struct

EPS = 1.0 / 128.0
GAMMA = 1.0 + 2.0 * EPS
LN_GAMMA = math.log1p(2.0 * EPS)
MIN_VALUE = 1e-9
BIAS = -math.floor(math.log(MIN_VALUE) / LN_GAMMA) + 1
MAX_KEY = (1 << 15) - 2
INF_KEY = (1 << 15) - 1
MAX_BIN_WIDTH = (1 << 16) - 1


def bin_low(k):
    """The lowest value of key `k`: gamma ** (k - bias) (`Config.binLow`, `Config.f64`)."""
    if k < 0:
        return -bin_low(-k)
    if k == INF_KEY:
        return math.inf
    if k == 0:
        return 0.0
    return math.pow(GAMMA, k - BIAS)


NORM_MIN = bin_low(1)


def key(v):
    """`Config.key`: the key whose value gamma ** (k - bias) is nearest v on a log scale."""
    if v < 0:
        return -key(-v)
    if v == 0 or v < NORM_MIN:
        return 0
    # Python's round() rounds half to even, like math.RoundToEven
    i = int(round(math.log(v) / LN_GAMMA)) + BIAS
    if i > MAX_KEY:
        return INF_KEY
    return max(i, 1)


def rtloader_bounds(lower, upper):
    """The bounds as the Agent gets them from Python: through a C float (float32)."""
    return struct.unpack('ff', struct.pack('ff', lower, upper))


class AgentSketch:
    """The Agent's sketch of one distribution: counts per key plus a min/max/sum/count summary."""

    def __init__(self):
        self.counts = {}
        self.count = 0
        self.min = self.max = self.sum = 0.0
        self.cnt = 0

    def _insert_n(self, k, value, n):
        # Summary.InsertN(value, n) followed by a KeyCount{k, n} flushed into the store
        if self.cnt == 0:
            self.min = self.max = value
        else:
            self.min = min(self.min, value)
            self.max = max(self.max, value)
        self.cnt += n
        self.sum += n * value
        self.counts[k] = self.counts.get(k, 0) + n
        self.count += n

    def insert_interpolate(self, lower, upper, count):
        """`Agent.InsertInterpolate`: spread `count` over the keys from key(lower) to key(upper).

        Walking up the keys, the share of the stretch since the last placement is
        (binLow(next key) - binLow(start key)) / (upper - lower) * count; its integer part is put
        at the start key's lower edge. Fractions are carried only from shares above 1, and what
        is left at the end goes to the last start key, so a count too small to share (1 in a
        3.9 % bucket) lands whole on key(lower).
        """
        keys = list(range(key(lower), key(upper) + 1))
        if not keys:
            raise ValueError('explicit bucket histogram: non-monotonic boundaries')
        whats_left = int(count)
        distance = upper - lower
        start = 0
        lower_b = bin_low(keys[start])
        end = 1
        remainder = 0.0
        while end < len(keys) and whats_left > 0:
            upper_b = bin_low(keys[end])
            fkn = ((upper_b - lower_b) / distance) * count
            if fkn > 1:
                remainder += fkn - float(int(fkn))
            kn = int(fkn)
            if remainder > 1:
                kn += 1
                remainder -= 1
            if kn > 0:
                kn = min(kn, whats_left)
                self._insert_n(keys[start], lower_b, kn)
                whats_left -= kn
                start = end
                lower_b = upper_b
            end += 1
        if whats_left > 0:
            self._insert_n(keys[start], bin_low(keys[start]), whats_left)

    def add_bucket(self, lower, upper, count):
        """A non-monotonic `submit_histogram_bucket` as the Agent takes it (rtloader, then
        `CheckSampler.addBucket`, then `sketchMap.insertInterp`)."""
        lower, upper = rtloader_bounds(lower, upper)
        count = int(count)
        if count <= 0 or upper - lower < 0:
            return
        if math.isinf(upper) and upper > 0:
            upper = lower
        if math.isinf(lower) or math.isnan(lower) or math.isinf(upper) or math.isnan(upper):
            return
        self.insert_interpolate(lower, upper, count)

    def merge(self, other):
        """Another sketch of the same distribution (a later flush, another host) added in."""
        for k, n in other.counts.items():
            self.counts[k] = self.counts.get(k, 0) + n
        self.count += other.count
        if other.cnt:
            if self.cnt == 0:
                self.min, self.max = other.min, other.max
            else:
                self.min = min(self.min, other.min)
                self.max = max(self.max, other.max)
            self.cnt += other.cnt
            self.sum += other.sum

    def bins(self):
        """[(key, n)] sorted by key, a key over 65535 split like `appendSafe` (remainder first)."""
        out = []
        for k in sorted(self.counts):
            n = self.counts[k]
            if n % MAX_BIN_WIDTH:
                out.append((k, n % MAX_BIN_WIDTH))
            out.extend([(k, MAX_BIN_WIDTH)] * (n // MAX_BIN_WIDTH))
        return out

    def quantile(self, q):
        """`Sketch.Quantile`: find the bin holding rank round-half-even(q * (count - 1)) and
        interpolate linearly from binLow(k) (the summary's min for the first bin) to
        binLow(k) * gamma by how far into the bin the rank falls."""
        if self.count == 0:
            return 0.0
        if q <= 0:
            return self.min
        if q >= 1:
            return self.max
        want = float(round(q * (self.count - 1)))
        n = 0.0
        for i, (k, bn) in enumerate(self.bins()):
            n += bn
            if n <= want:
                continue
            weight = (n - want) / bn
            v_low = bin_low(k)
            v_high = v_low * GAMMA
            if i == 0:
                v_low = self.min
            return v_low * weight + v_high * (1 - weight)
        return self.max

    def average(self):
        """sum / count of the summary: every placed count is valued at its key's lower edge."""
        return self.sum / self.cnt if self.cnt else 0.0
