#!/usr/bin/env python3
"""Write classifier.json: scikit-learn reference values for the classifier
two-sample test of package stats/multivariate (classifier_test.go): the
pooled standardization, the L2-regularized logistic regression fitted on
each fold's training rows, each fold's held-out ROC AUC and their mean
(sklearn's cross_val_score with scoring "roc_auc", on the folds given).

Run with `make golden` (pinned versions from
stats/testdata/golden/requirements.txt), or directly from the repository
root:

    python3 stats/multivariate/testdata/golden/gen_classifier.py

Seeded, so the same versions (recorded in the file) reproduce it byte for
byte. Conventions are in stats/testdata/golden/goldenjson.py.

Each case is a design x (n rows of p raw columns), labels y (0: the
reference sample, 1: the window's), a fold per row, K and C. The reference
fits with solver "newton-cholesky" and tol 1e-12, which minimizes the same
objective as driftwatch's fit (1/2 ||w||^2 + C * sum of log losses,
intercept unpenalized) to within rounding; the coefficients reported are on
the standardized columns, intercept first. AUCs use the decision function
(logits), as driftwatch scores rows.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "testdata", "golden"))

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from goldenjson import sig, versions, write  # noqa: E402

SEED = 20261201
rng = np.random.default_rng(SEED)


def sample(kind, n, p):
    """Two samples of n rows each: kind says how the second differs."""
    a = rng.normal(size=(n, p))
    b = rng.normal(size=(n, p))
    if kind == "shift":
        b[:, 0] += 0.4
    elif kind == "scale":
        b[:, 1 % p] *= 1.6
    elif kind == "correlation":
        # columns 0 and 1 correlated +0.8 in a, -0.8 in b; squares and the
        # product as extra columns (the test's quadratic terms)
        for m, rho in ((a, 0.8), (b, -0.8)):
            m[:, 1] = rho * m[:, 0] + np.sqrt(1 - rho * rho) * m[:, 1]
    elif kind == "separable":
        b[:, 0] += 4.0
    elif kind == "constant":
        a[:, p - 1] = 2.5
        b[:, p - 1] = 2.5
        b[:, 0] += 0.2
    x = np.vstack([a, b])
    if kind == "correlation":
        x = np.hstack([x, x[:, :2] ** 2, (x[:, 0] * x[:, 1])[:, None]])
    return sig(x, 6).reshape(x.shape[0], -1)


def case(kind, n, p, k, c):
    x = sample(kind, n, p)
    y = np.r_[np.zeros(n), np.ones(n)]
    folds = rng.permutation(2 * n) % k
    z = StandardScaler().fit_transform(x)
    coefs, aucs = [], []
    for f in range(k):
        train, test = folds != f, folds == f
        m = LogisticRegression(C=c, solver="newton-cholesky", tol=1e-12, max_iter=1000)
        m.fit(z[train], y[train])
        coefs.append(np.r_[m.intercept_, m.coef_.ravel()])
        aucs.append(roc_auc_score(y[test], m.decision_function(z[test])))
    return {"name": f"{kind}/n={n}/p={x.shape[1]}/k={k}/C={c}", "x": x.ravel(), "p": x.shape[1], "y": y,
            "folds": folds, "k": k, "c": c, "coefs": coefs, "aucs": aucs, "auc": float(np.mean(aucs))}


cases = []
for kind, n, p, k, c in [
    ("null", 60, 3, 5, 1.0),
    ("null", 250, 6, 5, 1.0),
    ("shift", 200, 4, 5, 1.0),
    ("shift", 500, 9, 5, 1.0),
    ("scale", 300, 3, 3, 0.1),
    ("correlation", 400, 2, 5, 1.0),
    ("separable", 100, 3, 5, 1.0),
    ("separable", 100, 2, 4, 100.0),
    ("constant", 150, 4, 5, 1.0),
    ("shift", 40, 12, 2, 0.5),
]:
    cases.append(case(kind, n, p, k, c))

write(__file__, {"versions": versions("numpy", "scikit-learn"), "seed": SEED}, {"cases": cases})
