#!/usr/bin/env python3
"""Time Go beside SciPy, statsmodels, numpy and River on the same inputs and write bench/RESULTS.md.

Run by bench/stats/run.sh (`make bench-stats`), after it has written the
inputs with `go run ./bench/stats/writesamples`, compiled the test binaries of
the benchmarked packages into BIN, run the Go-only benchmarks and the
allocation checks:

    python3 bench/stats/peers.py --inputs DIR --bin BIN --go GO_ONLY_BENCH_OUTPUT \\
        --alloc GO_ALLOC_TEST_OUTPUT --out bench/RESULTS.md --started UNIX_SECONDS

Every number in the output comes from this run. The machine is shared, so the
load changes while the benchmarks run; to keep the ratios meaningful each row
is measured side by side: in every round the row's Go sub-benchmark runs (its
test binary, -test.count=1) and right after it the peer, on the same inputs,
and the ratio is taken within the round. The peers read the raw little-endian
float64 files the Go side wrote, so both sides see byte-identical inputs. Each
row also compares the value Go computed (its "value" or "drifts" benchmark
metric) with the peer's, so that a ratio is never reported for two different
computations without saying so.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import scipy
import scipy.stats as st
from scipy.spatial.distance import jensenshannon

try:  # statsmodels is optional: without it the z-test rows have no peer.
    import statsmodels
    from statsmodels.stats.proportion import proportions_ztest
    from statsmodels.stats.weightstats import ztest as sm_ztest
except ImportError:  # pragma: no cover
    statsmodels = None

try:  # River is optional: without it the detector rows have no peer.
    import river
    from river import drift as rdrift
    from river.drift import binary as rbinary
except ImportError:  # pragma: no cover
    river = None

# Timing policy for the peers; the Go side runs with -test.benchtime.
MIN_TIME = 0.2  # seconds of calls per round
SINGLE = 1.0  # calls at least this long are timed one per round

# River is pure Python: it is timed up to RIVER_MAX values, and KSWIN (one
# scipy.stats.ks_2samp per update) only up to KSWIN_MAX.
RIVER_MAX = 10**6
KSWIN_MAX = 10**3

# Relative tolerance for "same value": Go prints its metric with 4 to 5
# significant digits.
VALUE_RTOL = 2e-3

MODULE = "github.com/driftwatch/driftwatch"


# ---------------------------------------------------------------- inputs


class Inputs:
    def __init__(self, d: Path):
        self.dir = d
        self.manifest = json.loads((d / "manifest.json").read_text())

    def load(self, what: str, n: int) -> np.ndarray:
        return np.fromfile(self.dir / f"{what}_{size_name(n)}.f64", dtype="<f8")


def size_name(n: int) -> str:
    """Mirror of samples.Name: 1000 -> '1e3'."""
    e = round(math.log10(n)) if n > 0 else 0
    return f"1e{e}" if n > 0 and 10**e == n else str(n)


# ---------------------------------------------------------------- Go


@dataclass
class GoResult:
    ns: list[float] = field(default_factory=list)
    bytes: list[float] = field(default_factory=list)
    allocs: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)

    def extend(self, o: GoResult) -> None:
        self.ns += o.ns
        self.bytes += o.bytes
        self.allocs += o.allocs
        for k, v in o.metrics.items():
            self.metrics.setdefault(k, []).extend(v)


LINE = re.compile(r"^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*\bns/op\b.*)$")


def parse_go(text: str) -> dict[tuple[str, str], GoResult]:
    """Map (package path, benchmark name without -GOMAXPROCS) to its runs."""
    out: dict[tuple[str, str], GoResult] = {}
    pkg = ""
    for line in text.splitlines():
        if line.startswith("pkg: "):
            pkg = line[5:].strip()
            continue
        m = LINE.match(line)
        if not m:
            continue
        r = out.setdefault((pkg, m.group(1)), GoResult())
        fields = m.group(3).split()
        for val, unit in zip(fields[0::2], fields[1::2]):
            v = float(val)
            if unit == "ns/op":
                r.ns.append(v)
            elif unit == "B/op":
                r.bytes.append(v)
            elif unit == "allocs/op":
                r.allocs.append(v)
            elif unit != "MB/s":
                r.metrics.setdefault(unit, []).append(v)
    return out


def bench_pattern(*parts: str) -> str:
    """An anchored -test.bench pattern for one sub-benchmark."""
    return "/".join(f"^{re.escape(p)}$" for p in parts)


def run_go(binary: Path, pattern: str, benchtime: str) -> GoResult | None:
    """Run one sub-benchmark once; None if it did not report."""
    p = subprocess.run(
        [str(binary), "-test.run=^$", f"-test.bench={pattern}", "-test.benchmem",
         f"-test.benchtime={benchtime}", "-test.count=1", "-test.timeout=30m"],
        capture_output=True, text=True)
    res = parse_go(p.stdout)
    if p.returncode != 0 or len(res) != 1:
        print(f"go benchmark {binary.name} {pattern} failed (exit {p.returncode}):\n{p.stdout}{p.stderr}",
              file=sys.stderr)
        return None
    return next(iter(res.values()))


# ---------------------------------------------------------------- peers


class PeerTimer:
    """Times one peer call per round: the mean of as many calls as fill
    MIN_TIME, or one call if a call takes SINGLE seconds or more. The first
    call (in the first round) is a warm-up, unless it is that slow."""

    def __init__(self, f: Callable[[], object]):
        self.f = f
        self.k = 0
        self.value = None

    def once(self) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # anderson_ksamp's capped p-value warning
            if self.k == 0:
                t0 = time.perf_counter()
                self.value = self.f()
                first = time.perf_counter() - t0
                if first >= SINGLE:
                    self.k = 1
                    return first
                self.k = max(1, int(MIN_TIME / max(first, 1e-7)))
            t0 = time.perf_counter()
            for _ in range(self.k):
                self.f()
            return (time.perf_counter() - t0) / self.k


def psi_numpy(ref, cur, eps=1e-4):
    r = ref / ref.sum()
    c = cur / cur.sum()
    r = np.where(r == 0, eps, r)
    c = np.where(c == 0, eps, c)
    return float(np.sum((c - r) * np.log(c / r)))


def ks_binned_numpy(ref, cur):
    n, m = ref.sum(), cur.sum()
    d = float(np.max(np.abs(np.cumsum(ref) / n - np.cumsum(cur) / m)))
    en = n * m / (n + m)
    st.kstwo.sf(d, max(1, round(en)))
    return d


def expand(counts):
    """Bin j's index counts[j] times: the binned data as samples."""
    return np.repeat(np.arange(len(counts)), counts.astype(np.int64))


def ad_binned_scipy(ref, cur):
    # The bins as tied values: Go's AndersonDarlingBinned is anderson_ksamp's
    # midrank statistic of those samples.
    return float(st.anderson_ksamp([expand(ref), expand(cur)], variant="midrank").statistic)


def cvm_binned_scipy(ref, cur):
    # scipy's statistic of the bins as tied values puts midranks into
    # Anderson's formula; Go's CramerVonMisesBinned is the mid-ECDF form,
    # scipy's less (C - 1)/(12 N) (stats/ranktests.go).
    t = st.cramervonmises_2samp(expand(ref), expand(cur), method="asymptotic").statistic
    n, m = ref.sum(), cur.sum()
    N = n + m
    c = np.sum(N / (n * m) * (ref ** 3 + cur ** 3) - (ref + cur) ** 3 / N) - (n * n + m * m) / (n * m)
    return float(t - (c - 1) / (12 * N))


def contingency(ref, cur, **kw):
    t = np.vstack([ref, cur])
    t = t[:, t.sum(axis=0) > 0]
    return float(st.chi2_contingency(t, correction=False, **kw).statistic)


def window_state_numpy(x, edges):
    idx = np.searchsorted(edges, x, side="right")
    nb = len(edges) + 1
    np.bincount(idx, minlength=nb)
    np.bincount(idx, weights=x, minlength=nb)
    x.min()
    x.max()
    mean = x.mean()
    float(np.sum((x - mean) ** 2))
    return float(mean)


def river_run(make, xs):
    d = make()
    drifts = 0
    for v in xs:
        d.update(v)
        if d.drift_detected:
            drifts += 1
    return drifts


RIVER = {
    "ADWIN": ("river.drift.ADWIN()", lambda: rdrift.ADWIN()),
    "PageHinkley": ("river.drift.PageHinkley()", lambda: rdrift.PageHinkley()),
    "DDM": ("river.drift.binary.DDM()", lambda: rbinary.DDM()),
    "EDDM": ("river.drift.binary.EDDM()", lambda: rbinary.EDDM()),
    "KSWIN": ("river.drift.KSWIN(seed=0)", lambda: rdrift.KSWIN(seed=0)),
}


@dataclass
class Row:
    group: str
    name: str
    n: int  # 0: per call
    peer: str = ""  # what the peer computes
    binary: str = ""  # test binary, "" for rows of the Go-only batch
    pattern: str = ""
    go_metric: str = ""  # benchmark metric holding the computed value
    timer: PeerTimer | None = None
    note: str = ""  # why there is no peer time
    cap: int = 0  # River's size cap, for the note
    go: GoResult = field(default_factory=GoResult)
    peer_times: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)


def stats_rows(inp: Inputs) -> list[Row]:
    rows = []
    for n in inp.manifest["sizes"]:
        x, y = inp.load("x", n), inp.load("y", n)
        r10, c10 = inp.load("ref10", n), inp.load("cur10", n)
        r100, c100 = inp.load("ref100", n), inp.load("cur100", n)
        k1, n1, k2, n2 = inp.load("prop", n)
        kn, kd = inp.load("kolmogn", n)
        peers = [
            ("KS2SampAuto", "scipy.stats.ks_2samp(x, y, method='auto')",
             lambda x=x, y=y: st.ks_2samp(x, y, method="auto").statistic),
            ("KS2Samp", "scipy.stats.ks_2samp(x, y, method='asymp')",
             lambda x=x, y=y: st.ks_2samp(x, y, method="asymp").statistic),
            ("AndersonDarlingKSample", "scipy.stats.anderson_ksamp([x, y], variant='midrank')",
             lambda x=x, y=y: st.anderson_ksamp([x, y], variant="midrank").statistic),
            ("CramerVonMises2Samp", "scipy.stats.cramervonmises_2samp(x, y)",
             lambda x=x, y=y: st.cramervonmises_2samp(x, y).statistic),
            ("EnergyDistance", "scipy.stats.energy_distance(x, y)",
             lambda x=x, y=y: st.energy_distance(x, y)),
            ("Wasserstein", "scipy.stats.wasserstein_distance(x, y)",
             lambda x=x, y=y: st.wasserstein_distance(x, y)),
            ("WassersteinNormalized", "wasserstein_distance(x, y) / numpy.std(x)",
             lambda x=x, y=y: st.wasserstein_distance(x, y) / np.std(x)),
            ("WelchTTest", "scipy.stats.ttest_ind(x, y, equal_var=False)",
             lambda x=x, y=y: st.ttest_ind(x, y, equal_var=False).statistic),
            ("MomentsZTestMeans", "statsmodels ztest(x, y, usevar='unequal')",
             (lambda x=x, y=y: sm_ztest(x, y, usevar="unequal")[0]) if statsmodels else None),
            ("PSI", "numpy PSI (eps 1e-4, as Evidently)", lambda r=r10, c=c10: psi_numpy(r, c)),
            ("JensenShannon", "scipy.spatial.distance.jensenshannon(ref, cur)",
             lambda r=r10, c=c10: jensenshannon(r, c)),
            ("Hellinger", "numpy sqrt(sum((sqrt(p)-sqrt(q))²)/2)",
             lambda r=r10, c=c10: np.sqrt(np.sum((np.sqrt(r / r.sum()) - np.sqrt(c / c.sum())) ** 2) / 2)),
            ("KLDivergence", "scipy.stats.entropy(ref, cur)", lambda r=r10, c=c10: st.entropy(r, c)),
            ("TotalVariation", "numpy 0.5·sum\\|p-q\\|",
             lambda r=r10, c=c10: 0.5 * np.abs(r / r.sum() - c / c.sum()).sum()),
            ("LInfinity", "numpy max\\|p-q\\|", lambda r=r10, c=c10: np.abs(r / r.sum() - c / c.sum()).max()),
            ("KSBinned", "numpy cumsum D + scipy.stats.kstwo.sf", lambda r=r100, c=c100: ks_binned_numpy(r, c)),
            ("AndersonDarlingBinned", "scipy.stats.anderson_ksamp(midrank) of the bins as tied values (numpy.repeat)",
             lambda r=r100, c=c100: ad_binned_scipy(r, c)),
            ("CramerVonMisesBinned", "scipy.stats.cramervonmises_2samp of the bins as tied values, less the ties' term",
             lambda r=r100, c=c100: cvm_binned_scipy(r, c)),
            ("ChiSquared", "scipy.stats.chi2_contingency(correction=False)",
             lambda r=r100, c=c100: contingency(r, c)),
            ("GTest", "chi2_contingency(lambda_='log-likelihood')",
             lambda r=r100, c=c100: contingency(r, c, lambda_="log-likelihood")),
            ("ProportionZTest", "statsmodels proportions_ztest",
             (lambda c=np.array([k1, k2]), o=np.array([n1, n2]): proportions_ztest(c, o)[0])
             if statsmodels else None),
            ("KolmogorovN", "scipy.stats.kstwo.sf(d, n)", lambda d=kd, k=int(kn): st.kstwo.sf(d, k)),
        ]
        for name, label, f in peers:
            rows.append(Row("stats", name, n, label, "stats.test",
                            bench_pattern("BenchmarkStatistic", name, f"n={size_name(n)}"), "value",
                            PeerTimer(f) if f else None, "" if f else "statsmodels not installed"))
    return rows


def stream_rows(inp: Inputs) -> list[Row]:
    rows = []
    for n in inp.manifest["stream_sizes"]:
        xs: list[float] = []
        for name, (label, make) in RIVER.items():
            cap = KSWIN_MAX if name == "KSWIN" else RIVER_MAX
            row = Row("stream", name, n, label, "stream.test",
                      bench_pattern("BenchmarkDetector", name, f"n={size_name(n)}"), "drifts")
            if river is None:
                row.note = "river not installed"
            elif n > cap:
                row.cap = cap
            else:
                if not xs:
                    xs = inp.load("errors", n).tolist()  # Python floats, as a caller passes them
                row.timer = PeerTimer(lambda make=make, xs=xs: river_run(make, xs))
            rows.append(row)
    return rows


def window_rows(inp: Inputs) -> list[Row]:
    edges = np.array(inp.manifest["fine_edges"], dtype=np.float64)
    rows = []
    for n in inp.manifest["sizes"]:
        x = inp.load("x", n)
        rows.append(Row("windows", "Feature.add (numeric)", n,
                        "numpy searchsorted + 2 bincount + min, max, mean, M2", "windows.test",
                        bench_pattern("BenchmarkFeatureAdd", "numeric", f"n={size_name(n)}"), "value",
                        PeerTimer(lambda x=x: window_state_numpy(x, edges))))
    return rows


def go_only_rows(go: dict, group: str, pkg: str, names: list[tuple[str, str, int]]) -> list[Row]:
    rows = []
    for label, bench, n in names:
        r = go.get((pkg, bench))
        if r is not None:
            rows.append(Row(group, label, n, go=r))
    return rows


def run_rounds(rows: list[Row], bindir: Path, rounds: int, benchtime: str) -> None:
    for rnd in range(rounds):
        for row in rows:
            if rnd > 0 and row.timer is None:
                continue  # nothing to compare with: one Go run is enough
            g = run_go(bindir / row.binary, row.pattern, benchtime)
            if g is not None:
                row.go.extend(g)
            if row.timer is not None:
                t = row.timer.once()
                row.peer_times.append(t)
                if g is not None and g.ns:
                    row.ratios.append(t / (g.ns[0] * 1e-9))
            go_t = fmt_time(g.ns[0] * 1e-9) if g is not None and g.ns else "failed"
            peer_t = fmt_time(row.peer_times[-1]) if row.timer is not None else "—"
            print(f"  round {rnd + 1}/{rounds} {row.group} {row.name} n={size_name(row.n)}: "
                  f"Go {go_t}, peer {peer_t}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- output


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def fmt_time(s: float | None) -> str:
    if s is None or math.isnan(s):
        return "—"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt_count(v: float) -> str:
    return "—" if math.isnan(v) else f"{v:,.0f}"


def fmt_ratio(r: float) -> str:
    if math.isnan(r):
        return "—"
    return f"{r:.3g}×" if r < 100 else f"{r:,.0f}×"


def same(go_v: float, peer_v: float, exact: bool) -> bool:
    if exact:
        return go_v == peer_v
    if math.isnan(go_v) or math.isnan(peer_v):
        return math.isnan(go_v) and math.isnan(peer_v)
    return abs(go_v - peer_v) <= VALUE_RTOL * abs(peer_v) + 1e-6


def value_cell(row: Row) -> tuple[str, bool]:
    """The 'same value?' cell and whether it reports a problem."""
    if row.timer is None or row.timer.value is None or not row.go_metric:
        return "—", False
    gv = row.go.metrics.get(row.go_metric)
    if not gv:
        return "no Go value", True
    if len(set(gv)) > 1:
        return f"**NO**: Go values differ between rounds: {sorted(set(gv))}", True
    g, p = gv[0], float(row.timer.value)
    exact = row.go_metric == "drifts"
    shown = f"{g:.0f}" if exact else f"{g:.4g}"
    if same(g, p, exact):
        return f"yes ({shown})", False
    return f"**NO**: Go {shown}, peer {p:.0f}" if exact else f"**NO**: Go {shown}, peer {p:.6g}", True


def ratio_cell(row: Row) -> str:
    if not row.ratios:
        return "—"
    if len(row.ratios) == 1:
        return fmt_ratio(row.ratios[0])
    return f"{fmt_ratio(med(row.ratios))} ({fmt_ratio(min(row.ratios))}–{fmt_ratio(max(row.ratios))})"


def peer_cell(row: Row, rows: list[Row]) -> str:
    if row.peer_times:
        return fmt_time(med(row.peer_times))
    if row.cap:
        note = f"not run: River capped at n={size_name(row.cap)}"
        timed = [r for r in rows if r.name == row.name and r.group == row.group and r.peer_times]
        if timed:
            big = max(timed, key=lambda r: r.n)
            per = med(big.peer_times) / big.n
            note += f" ({fmt_time(per)}/update at n={size_name(big.n)}, so about {fmt_time(per * row.n)} here)"
        return note
    return row.note or "—"


def table(rows: list[Row], with_peer: bool) -> list[str]:
    if with_peer:
        out = ["| statistic | n | Go time/op | Go B/op | Go allocs/op | peer | peer time | peer/Go (range) | same value? |",
               "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |"]
    else:
        out = ["| benchmark | n | Go time/op | Go B/op | Go allocs/op |",
               "| --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        if not r.go.ns:
            go_cells = ["missing", "—", "—"]
        else:
            go_cells = [fmt_time(med(r.go.ns) * 1e-9), fmt_count(med(r.go.bytes)), fmt_count(med(r.go.allocs))]
        n = size_name(r.n) if r.n else "per call"
        line = f"| {r.name} | {n} | " + " | ".join(go_cells)
        if with_peer:
            line += f" | {r.peer} | {peer_cell(r, rows)} | {ratio_cell(r)} | {value_cell(r)[0]}"
        out.append(line + " |")
    return out


def headline(rows: list[Row]) -> list[str]:
    sizes = sorted({r.n for r in rows})
    out = ["| statistic | " + " | ".join(f"n={size_name(n)}" for n in sizes) + " |",
           "| --- |" + " ---: |" * len(sizes)]
    for name in dict.fromkeys(r.name for r in rows):
        cells = []
        for n in sizes:
            r = next((r for r in rows if r.name == name and r.n == n), None)
            cells.append(fmt_ratio(med(r.ratios)) if r and r.ratios else "—")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def cmd_out(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def alloc_lines(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        m = re.match(r"^--- (PASS|FAIL|SKIP): (\S+)", line) or re.match(r"^(ok|FAIL)\s+(\S+)", line)
        if m:
            out.append(f"{m.group(1)} {m.group(2)}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", required=True, type=Path, help="directory written by writesamples")
    ap.add_argument("--bin", required=True, type=Path, help="directory of stats.test, stream.test, windows.test")
    ap.add_argument("--go", required=True, type=Path, help="go test -bench output of the Go-only benchmarks")
    ap.add_argument("--alloc", type=Path, help="go test -v -run Alloc output")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--benchtime", default="200ms", help="-test.benchtime of each Go run")
    ap.add_argument("--go-flags", default="", help="flags the Go-only benchmarks ran with")
    ap.add_argument("--started", type=float, help="unix time the run started")
    a = ap.parse_args()

    inp = Inputs(a.inputs)
    t0 = time.time()
    side = stats_rows(inp) + stream_rows(inp) + window_rows(inp)
    run_rounds(side, a.bin, a.rounds, a.benchtime)
    side_seconds = time.time() - t0
    groups = {g: [r for r in side if r.group == g] for g in ("stats", "stream", "windows")}

    go = parse_go(a.go.read_text())
    perf = go_only_rows(go, "perf", f"{MODULE}/stats/perf",
                        [("Evaluate: Add n scores, then ROCAUC, PRAUC, ECE, Brier, LogLoss, F1",
                          f"BenchmarkEvaluate/n={size_name(n)}", n) for n in inp.manifest["sizes"]] +
                        [("ScoreHistogram.Add (per value)", "BenchmarkScoreHistogramAdd", 0),
                         ("Confusion.Add (per value)", "BenchmarkConfusionAdd", 0),
                         ("RegressionSums.Add (per value)", "BenchmarkRegressionSumsAdd", 0),
                         ("ScoreHistogram ROCAUC+PRAUC+ECE (1000 bins)", "BenchmarkScoreHistogramMetrics", 0),
                         ("ScoreHistogram.Merge (1000 bins)", "BenchmarkScoreHistogramMerge", 0)])
    sketch = go_only_rows(go, "sketch", f"{MODULE}/stats/sketch",
                          [("DDSketch Add (per value)", "BenchmarkAdd", 0),
                           ("fixed-edge Histogram Add (per value)", "BenchmarkHistogramAdd", 0)] +
                          [(f"{op} (sketches of n values)", f"BenchmarkSketchOps/{op}/n={n}", n)
                           for n in inp.manifest["sizes"]
                           for op in ("Merge", "Quantile", "KS", "Wasserstein", "MarshalBinary")])

    problems = [f"- {r.group} {r.name} n={size_name(r.n)}: {value_cell(r)[0]}" for r in side if value_cell(r)[1]]
    problems += [f"- {r.group} {r.name} n={size_name(r.n)}: Go benchmark reported in {len(r.go.ns)} of "
                 f"{want} rounds" for r in side
                 if len(r.go.ns) != (want := a.rounds if r.timer is not None else 1)]
    now = datetime.datetime.now(datetime.timezone.utc)
    commit = cmd_out(["git", "rev-parse", "--short", "HEAD"])
    if cmd_out(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " plus uncommitted changes"
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    total = f"{time.time() - a.started:.0f} s" if a.started else "unknown"

    L = ["# Statistics benchmarks: Go beside SciPy, statsmodels, numpy and River", "",
         "Generated by `make bench-stats` (bench/stats/run.sh, bench/stats/peers.py) from the measurements",
         "of one run; do not edit by hand, rerun to regenerate.", "",
         f"- date: {now:%Y-%m-%d %H:%M} UTC; commit {commit}",
         f"- machine: {cpu_model()}, {ncpu} CPUs, {platform.system()} {platform.release()}",
         f"- Go: {cmd_out(['go', 'version'])}",
         f"- Python {platform.python_version()}, numpy {np.__version__}, SciPy {scipy.__version__}, "
         f"statsmodels {statsmodels.__version__ if statsmodels else 'not installed'}, "
         f"River {river.__version__ if river else 'not installed'}",
         f"- wall time: {total} in all, of which {side_seconds:.0f} s for the side-by-side rounds",
         "- reproduce: `make bench-stats` (`BENCH_ROUNDS`, default 3, and `BENCH_TIME`, default 200ms,",
         "  tune it)", "",
         "## How to read this", "",
         "- **These figures are from one run on a shared 2-core machine, with another developer using the",
         "  CPU at the same time.** Absolute times are noisy; the ratios, measured side by side on the same",
         "  inputs, are what matter, and the range column shows how much even they moved within this run.",
         f"- Side by side: the run makes {a.rounds} rounds over the rows; in each round a row's Go",
         "  sub-benchmark runs (its compiled test binary, `-test.count=1 "
         f"-test.benchtime={a.benchtime} -test.benchmem`)",
         "  and right after it the peer, so both see about the same load. Go time/op, B/op, allocs/op and",
         "  peer time are medians over the rounds; peer/Go is the median of the per-round ratios, with",
         "  their minimum and maximum in parentheses. Above 1, Go is faster. Rows without a peer run",
         "  in the first round only.",
         "- Inputs: `go run ./bench/stats/writesamples` writes every input once as raw little-endian float64",
         "  files; the Go benchmarks build the same values with package `bench/stats/samples` (a test checks",
         "  that the files round-trip), and the peers read the files, so both sides compute on",
         "  byte-identical data. x ~ N(0, 1) and y ~ N(0.1, 1.1²), n values each. Histogram statistics",
         "  get the counts of x and y on 10 (PSI, JS, Hellinger, KL, TV, L∞) or 100 (KSBinned, AndersonDarlingBinned, CramerVonMisesBinned, χ², G)",
         "  standard-normal quantile bins: their cost depends on the bins, not on n, which only sets the",
         "  counts (binning n values is the `windows` row). The detectors get a 0/1 error stream (rate",
         "  0.1, 0.3 in every fourth block of 5,000 values).",
         "- One op is one call on the whole input; for detectors and windows, building the state and",
         "  adding all n values. B/op and allocs/op are per op, so 0 means allocation-free.",
         f"- Peer time: per round, the mean of as many calls as fill {MIN_TIME:g} s, or one call when a",
         f"  call takes {SINGLE:g} s or more; the first call of a fast peer is an untimed warm-up. Python's",
         "  garbage collector stays on. It includes what the Python call does beyond the statistic",
         "  (argument checks, result objects, p-values): the cost a caller pays. Go's functions also",
         "  compute their p-values.",
         "- same value?: the statistic (or the number of drifts) Go computed, reported as a benchmark",
         "  metric with 4-5 significant digits, against the peer's, within a relative 2e-3; drift counts",
         "  must be equal. A **NO** means the two sides did not compute the same thing.",
         f"- River is pure Python: it is timed up to n={size_name(RIVER_MAX)}, and KSWIN, which calls",
         f"  scipy.stats.ks_2samp on every update, only up to n={size_name(KSWIN_MAX)}; larger rows say",
         "  so and give the time River would take at its measured per-update cost (an estimate, not a",
         "  measurement).", ""]
    if problems:
        L += ["## Problems in this run", ""] + problems + [""]
    L += ["## Headline: peer/Go time ratios (medians of the rounds)", "",
          "n is observations per sample (stats), values in the stream (detectors) or values added",
          "(windows). Above 1, Go is faster.", ""]
    L += headline(side)
    L += ["", "## stats: two-sample tests, distances and tests on histograms", ""]
    L += table(groups["stats"], True)
    L += ["", "## stats/stream: drift detectors against River", ""]
    L += table(groups["stream"], True)
    L += ["", "## windows: per-value histogram update against numpy", "",
          "Feature.add over an Arrow float64 column: the bin on 100 quantile bins, count and sum per bin,",
          "min, max, Welford moments, one value at a time; numpy computes the same state vectorized.", ""]
    L += table(groups["windows"], True)
    L += ["", "## stats/perf (Go only)", "",
          "No peer: scikit-learn's metrics are exact on raw scores, a different computation from the",
          "binned ScoreHistogram. \"per call\" rows time one Add (or one metric pass) per op. Run as",
          f"`go test -run='^$' -benchmem {a.go_flags}`, medians over the runs.", ""]
    L += table(perf, False)
    L += ["", "## stats/sketch (Go only)", "",
          "DDSketch with 1% relative accuracy; the package's own benchmarks (sketches of n values from",
          f"N(0, 1) and N(0.1, 1.1²)). No peer. Run as `go test -run='^$' -benchmem {a.go_flags}`.", ""]
    L += table(sketch, False)
    if a.alloc:
        L += ["", "## Allocation checks (testing.AllocsPerRun, in the same run)", "", "```"]
        L += alloc_lines(a.alloc.read_text()) + ["```"]
    L.append("")
    a.out.write_text(keep_sections(a.out) + "\n".join(L))
    print(f"wrote {a.out}: {len(problems)} problems", file=sys.stderr)
    return 0


def keep_sections(out: Path) -> str:
    """The sections other benchmarks keep at the top of out (<!-- BEGIN name ... --> to
    <!-- END name -->: bench/scaleout's, bench/pipeline/run.sh's), in their order, to put back."""
    old = out.read_text() if out.exists() else ""
    kept = []
    for m in re.finditer(r"<!-- BEGIN (\w+)[^>]*-->.*?<!-- END \1 -->", old, re.S):
        kept.append(m.group(0) + "\n\n")
    return "".join(kept)


if __name__ == "__main__":
    sys.exit(main())
