"""Shared conventions of driftwatch's golden files, imported by every gen_*.py.

Every golden file is `<pkg>/testdata/golden/<name>.json`, written by
`<pkg>/testdata/golden/gen_<name>.py` (run them all with `make golden`, which
installs requirements.txt beside this file into a virtualenv). A file is one
JSON object: "generator" (the script's path from the repository root),
"versions" (the Python and library versions that produced it), optional
scalar metadata such as "seed", and one array of case objects per section.
The Go tests read only these committed files.

Encoding, shared by every file:
  * NaN and infinities are the strings "NaN", "+Inf" and "-Inf" (JSON has
    no such numbers); integral floats are written as integers (3.0 -> 3).
  * A large sample may be written run-length encoded, as
    {"values": [...], "counts": [...]}: the sorted sample with each distinct
    value repeated count times. The reference is computed on exactly that
    sorted sample.
  * A case whose expected value ("want" or the like) is driftwatch's
    documented definition rather than the reference library's output carries
    "reference": what the library did instead (an error it raised or the
    value it returned). stats/golden_test.go lists every such case with the
    reason, so a new divergence fails the tests until it is documented.
  * Generated sample values are rounded to a few significant digits before
    the reference is computed: both sides read the same decimal text, the
    files stay small, and rounding adds realistic ties.
"""

import importlib.metadata
import json
import math
import os
import platform

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))


def versions(*dists):
    """Python's version and each named distribution's installed version."""
    out = {"python": platform.python_version()}
    for d in dists:
        out[d] = importlib.metadata.version(d)
    return out


def sig(a, digits=4):
    """a (scalar or array) rounded to `digits` significant digits, as float64."""
    if np.isscalar(a):
        return float(f"{float(a):.{digits}g}")
    return np.array([float(f"{float(v):.{digits}g}") for v in np.asarray(a).ravel()],
                    dtype=float)


def pack(x, min_len=500):
    """x as a JSON value: run-length encoded when x is sorted, long and
    repetitive enough for that to be shorter; otherwise a plain list."""
    x = np.asarray(x, dtype=float)
    if len(x) >= min_len and not np.isnan(x).any() and np.all(x[:-1] <= x[1:]):
        vals, counts = np.unique(x, return_counts=True)
        if len(vals) * 3 < len(x):
            return {"values": vals, "counts": counts}
    return x


def reference(f, *args, **kwargs):
    """(result, None) of f(*args, **kwargs), or (None, "Error: message") if
    it raised; warnings and floating-point errors are silenced."""
    import warnings
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return f(*args, **kwargs), None
    except Exception as e:  # noqa: BLE001 - the error text is the record
        return None, f"{type(e).__name__}: {e}"


def _enc(o):
    if isinstance(o, (bool, np.bool_)):
        return bool(o)
    if isinstance(o, (int, np.integer)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        o = float(o)
        if math.isnan(o):
            return "NaN"
        if math.isinf(o):
            return "+Inf" if o > 0 else "-Inf"
        if o.is_integer() and abs(o) < 2**53:
            return int(o)
        return o
    if isinstance(o, dict):
        return {str(k): _enc(v) for k, v in o.items()}
    if isinstance(o, (list, tuple, np.ndarray)):
        return [_enc(v) for v in o]
    return o


def dumps(o):
    return json.dumps(_enc(o), separators=(",", ":"), allow_nan=False)


def write(script, meta, sections):
    """Write the golden file beside `script` (its __file__) named after it
    (gen_X.py -> X.json): meta first, then each section with one case per
    line, and print the case counts."""
    here = os.path.dirname(os.path.abspath(script))
    base = os.path.basename(script)
    assert base.startswith("gen_") and base.endswith(".py"), base
    path = os.path.join(here, base[4:-3] + ".json")
    head = {"generator": os.path.relpath(os.path.abspath(script), ROOT)}
    head.update(meta)
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"{json.dumps(k)}:{dumps(v)},")
    names = list(sections)
    for i, name in enumerate(names):
        cases = sections[name]
        body = ",\n".join(dumps(c) for c in cases)
        lines.append(f"{json.dumps(name)}:[\n{body}\n]" + ("," if i < len(names) - 1 else ""))
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    total = sum(len(c) for c in sections.values())
    rel = os.path.relpath(path, ROOT)
    detail = ", ".join(f"{k} {len(v)}" for k, v in sections.items())
    print(f"{rel}: {total} cases, {os.path.getsize(path)} bytes ({detail})")
    return total
