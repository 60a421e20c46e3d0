// Package multivariate computes the statistics of multivariate drift on
// rows of numbers: a principal component analysis and the reconstruction
// error of a row from the leading components (NannyML's data
// reconstruction drift), and a classifier two-sample test (an
// L2-regularized logistic regression trained to tell two samples apart, its
// cross-validated ROC AUC, and a permutation p-value).
//
// It deliberately does not: encode features (frequency encoding,
// imputation and standardization are the baseline's, package baselines),
// keep or sample rows (package windows keeps a window's sample), choose
// thresholds or decide what is drift (package stats/drift), read or write
// anything, or keep state between calls. Rows are row-major float64 slices
// of n rows by d columns, owned by the caller and never modified or
// retained. Inputs must be finite: the callers impute missing values first.
//
// # PCA and the reconstruction error
//
// FitPCA centres the rows and takes the eigenvectors of their covariance
// matrix (divisor n-1) in decreasing order of eigenvalue, as
// sklearn.decomposition.PCA's "covariance_eigh" solver does; Keep picks the
// fewest components whose explained variance ratio sums to more than a
// share (sklearn's n_components given as a float). The reconstruction error
// of a row z from q components V (q x d) is
//
//	e(z) = || (z - mu) - V^T V (z - mu) ||_2
//
// the Euclidean norm of what the components leave out, and a sample's is
// the mean of its rows' (NannyML's DataReconstructionDriftCalculator).
//
// # Classifier two-sample test
//
// ClassifierTest labels the rows of one sample 1 and the other's 0,
// standardizes every column on the pooled rows (label-free, so the design
// is the same under every permutation of the labels), and splits the rows
// into K folds at random (seeded). For each fold it fits
//
//	min_w,b  1/2 ||w||^2 + C sum_i log(1 + exp(-s_i (x_i . w + b)))   (s_i = ±1)
//
// on the other folds (sklearn.linear_model.LogisticRegression with an L2
// penalty; the intercept is not penalized) and scores the fold's rows; the
// statistic is the mean of the folds' ROC AUCs (Mann-Whitney, ties count
// one half: sklearn.metrics.roc_auc_score), sklearn's cross_val_score with
// scoring "roc_auc". Under no difference it is about 0.5. Its p-value is a
// permutation test: the labels are shuffled B times (seeded), the same
// folds refitted, and p = (1 + #{AUC_b >= AUC}) / (1 + B) (Phipson and
// Smyth 2010: never 0, exact under exchangeability). The permutations stop
// once p cannot fall below alpha (Besag and Clifford 1991), so a window
// with no difference costs a few of them.
//
// The fits use the MM algorithm of Böhning and Lindsay (1988): since
// p(1-p) <= 1/4, the Hessian of the logistic loss is bounded by X^T X / 4,
// whose Cholesky factor is computed once per fold and serves every
// permutation, and the iteration w <- w - (X^T X/4 + P/C)^-1 grad(w)
// decreases the objective at every step; a fit that has not converged
// after MMIterations goes on with Newton steps (with step halving), so every
// fit ends at the one optimum of the strictly convex objective, which
// golden tests compare with scikit-learn's.
//
// # References
//
//	Statistic              Function                       Reference
//	PCA                    FitPCA, PCA.Keep               Jolliffe 2002, Principal Component Analysis; sklearn.decomposition.PCA
//	Reconstruction error   PCA.ReconstructionError        NannyML 0.13 DataReconstructionDriftCalculator
//	Logistic regression    Logistic.Fit                   Böhning & Lindsay 1988, Ann. Inst. Stat. Math. 40(4); sklearn.linear_model.LogisticRegression
//	ROC AUC                AUC                            Hanley & McNeil 1982, Radiology 143(1); sklearn.metrics.roc_auc_score
//	Classifier test        ClassifierTest.Run             Lopez-Paz & Oquab 2017, ICLR (classifier two-sample tests); Phipson & Smyth 2010, Stat. Appl. Genet. Mol. Biol. 9(1); Besag & Clifford 1991, Biometrika 78(2)
//
// Golden tests check PCA and reconstruction errors against NannyML 0.13.1
// (stats/drift/testdata/golden/gen_multivariate_nannyml.py, through the
// baseline's encoding) and the classifier's fits and cross-validated AUC
// against scikit-learn 1.9.1 (testdata/golden/gen_classifier.py).
package multivariate
