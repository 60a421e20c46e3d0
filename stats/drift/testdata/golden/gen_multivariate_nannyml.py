#!/usr/bin/env python3
"""Write multivariate_nannyml.json: NannyML's data reconstruction drift on
golden data, for driftwatch's multivariate reconstruction_error rows
(stats/drift/multivariate_golden_test.go).

Run with `make golden`, which runs every gen_*_nannyml.py with the
virtualenv .venv-nannyml built from
stats/testdata/golden/requirements-nannyml.txt, or directly from the
repository root with that virtualenv:

    .venv-nannyml/bin/python stats/drift/testdata/golden/gen_multivariate_nannyml.py

Seeded, so the same versions (recorded in the file) reproduce it byte for
byte. Conventions are in stats/testdata/golden/goldenjson.py.

Each case is a reference and an analysis data set (rows of numeric and
categorical features, some values missing, some analysis categories never
seen), fitted and computed with
nannyml.DataReconstructionDriftCalculator(column_names, chunk_size) at its
defaults: mean (numeric) and most-frequent (categorical) imputation,
category_encoders' CountEncoder(normalize=True), sklearn's StandardScaler
and PCA(n_components=0.65). The file holds, per case, the PCA's kept
components and explained variance ratios, the reconstruction error of every
reference and analysis chunk (NannyML's chunks of chunk_size consecutive
rows; the reference's length is a multiple of it), and the thresholds
(mean -/+ 3 standard deviations of the reference chunks' errors).

driftwatch fits the same pipeline in its baseline builder (every
reference row, as the reference is below its cap) and computes a chunk's
error as the mean of its rows' errors; its threshold is computed from
blocks of 25 fitted rows, which chunk sizes that are multiples of 25 make
the same chunks.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "testdata", "golden"))

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"  # NannyML posts usage statistics otherwise

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import nannyml as nml  # noqa: E402

from goldenjson import sig, versions, write  # noqa: E402

SEED = 20261202
rng = np.random.default_rng(SEED)


def numeric(n, mean, sd, missing=0.0, corr_with=None, rho=0.0):
    """n values, 4 significant digits, a share `missing` NaN; with
    corr_with (standard normal draws) correlated rho with them."""
    z = rng.normal(size=n)
    if corr_with is not None:
        z = rho * corr_with + np.sqrt(1 - rho * rho) * z
    x = sig(mean + sd * z, 4)
    x[rng.random(n) < missing] = np.nan
    return x, z


def categorical(n, cats, weights, missing=0.0):
    w = np.asarray(weights, dtype=float)
    x = rng.choice(np.asarray(cats, dtype=object), size=n, p=w / w.sum()).astype(object)
    # NaN, as pandas reads a missing string (read_csv, parquet): NannyML's
    # SimpleImputer finds NaN, not None, in an object column.
    x[rng.random(n) < missing] = np.nan
    return x


def frame(cols):
    df = pd.DataFrame({k: pd.Series(v, dtype=object if v.dtype == object else float) for k, v in cols.items()})
    return df


def case_correlated(name, n_ref, n_ana, chunk, flip_from):
    """Four numeric features, the first two correlated +0.8; in the
    analysis their correlation turns to -0.8 from row flip_from on."""
    def data(n, flip):
        a, za = numeric(n, 50, 10)
        rho = np.full(n, 0.8)
        rho[flip:] = -0.8
        zb = rho * za + np.sqrt(1 - rho * rho) * rng.normal(size=n)
        b = sig(3 + 0.5 * zb, 4)
        c, _ = numeric(n, 0, 1, missing=0.03)
        d, _ = numeric(n, 100, 30)
        return frame({"a": a, "b": b, "c": c, "d": d})
    return name, data(n_ref, n_ref), data(n_ana, flip_from), chunk


def case_mixed(name, n_ref, n_ana, chunk):
    """Numeric and categorical features with missing values, a constant
    feature, and categories the reference never had in the analysis's
    second half (with the numeric mix moved there too)."""
    def data(n, shifted):
        x, z = numeric(n, 40, 12, missing=0.05)
        y, _ = numeric(n, 1, 0.3, corr_with=z, rho=0.6)
        k, _ = numeric(n, 7, 0)  # constant
        cat = categorical(n, ["DE", "FR", "US", "NL"], [0.4, 0.3, 0.2, 0.1], missing=0.04)
        dev = categorical(n, ["ios", "android", "web"], [0.5, 0.3, 0.2])
        if shifted:
            half = n // 2
            cat[half:] = categorical(n - half, ["DE", "FR", "US", "NL", "XX", "YY"], [0.2, 0.2, 0.1, 0.1, 0.25, 0.15], missing=0.04)
            x[half:] = sig(x[half:] + 15, 4)
        return frame({"amount": x, "ratio": y, "constant": k, "country": cat, "device": dev})
    return name, data(n_ref, False), data(n_ana, True), chunk


def case_wide(name, n_ref, n_ana, chunk):
    """Twelve features of varied scales and correlation structure, no
    drift in the analysis."""
    weights = [rng.normal(size=3) if j < 6 else np.zeros(3) for j in range(10)]

    def data(n):
        base = rng.normal(size=(n, 3))
        cols = {}
        for j, w in enumerate(weights):
            z = base @ w + rng.normal(size=n)
            cols[f"f{j:02d}"] = sig(10 ** (j % 4 - 1) * z + j, 4)
        cols["g1"] = categorical(n, list("abcdefgh"), [8, 7, 6, 5, 4, 3, 2, 1])
        cols["g2"] = categorical(n, ["yes", "no"], [0.7, 0.3], missing=0.1)
        return frame(cols)
    return name, data(n_ref), data(n_ana), chunk


def values(df):
    """The rows as lists of JSON values: numbers, strings, null."""
    out = []
    for col in df.columns:
        v = df[col].to_numpy(dtype=object)
        out.append([None if (x is None or (isinstance(x, float) and np.isnan(x))) else x for x in v])
    return {"columns": list(df.columns), "values": out}


def run(name, ref, ana, chunk):
    cols = list(ref.columns)
    calc = nml.DataReconstructionDriftCalculator(column_names=cols, chunk_size=chunk)
    calc.fit(ref)
    res = calc.calculate(ana).to_df()
    per = res[("chunk", "period")].to_numpy()
    err = res[("reconstruction_error", "value")].to_numpy(dtype=float)
    # the reference's chunks, as fit computed them
    ref_err = calc.result.filter(period="reference").to_df()[("reconstruction_error", "value")].to_numpy(dtype=float)
    pca = calc._pca
    return {
        "name": name, "chunk": chunk,
        "reference_rows": values(ref), "analysis_rows": values(ana),
        "kept": int(pca.n_components_), "explained_variance_ratio": pca.explained_variance_ratio_,
        "reference_errors": ref_err, "analysis_errors": err[per == "analysis"],
        "lower": calc.lower_threshold_value, "upper": calc.upper_threshold_value,
    }


cases = [
    run(*case_correlated("correlation_flip", 3000, 2000, 200, 1000)),
    run(*case_mixed("mixed_missing_unseen", 2500, 1500, 250)),
    run(*case_wide("wide_stable", 2000, 1000, 100)),
]
write(__file__, {"versions": versions("nannyml", "numpy", "pandas", "scikit-learn", "category_encoders"), "seed": SEED},
      {"cases": cases})
