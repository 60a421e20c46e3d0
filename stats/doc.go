// Package stats computes drift statistics between a reference and a current
// distribution: pure functions on bin counts, weights or raw samples.
//
// It does: compare two histograms over the same bins (PSI, binned
// Kolmogorov-Smirnov, chi-squared homogeneity, Jensen-Shannon distance),
// compare two raw or weighted samples (two-sample Kolmogorov-Smirnov, first
// Wasserstein distance), keep mergeable running moments (Welford), and
// coarsen a fine histogram into roughly equal-mass groups for PSI.
//
// It deliberately does not: read or write anything (no I/O, no logging, no
// metrics), know about windows, baselines, features or thresholds, decide
// whether a value means "drift", build histograms or choose bin edges, or
// hold state other than the caller-owned Moments value. Callers align bins;
// every function that takes two count vectors requires them to describe the
// same bins in the same order and panics if their lengths differ (a
// programmer error). Data problems (empty input, a zero total, a negative or
// non-finite count or weight) yield NaN rather than a panic or an error.
//
// All functions are safe for concurrent use and never modify or retain their
// input slices. Results are checked against SciPy by golden tests
// (testdata/golden.py writes testdata/golden.json).
//
// Statistics and references:
//
//	Statistic        Function          Reference
//	PSI              PSI               Siddiqi 2006, Credit Risk Scorecards; Yurdakul 2018, Statistical properties of the population stability index
//	Kolmogorov SF    KolmogorovSF      Kolmogorov 1933; Marsaglia, Tsang & Wang 2003, J. Stat. Softw. 8(18) (series and their ranges)
//	Two-sample KS    KSBinned, KS2Samp Smirnov 1948, Ann. Math. Stat. 19(2); scipy.stats.ks_2samp
//	Chi-squared      ChiSquared        Pearson 1900, Phil. Mag. 50(302); scipy.stats.chi2_contingency
//	Jensen-Shannon   JensenShannon     Lin 1991, IEEE Trans. Inf. Theory 37(1); scipy.spatial.distance.jensenshannon
//	Wasserstein-1    Wasserstein       Vallender 1974, Theory Probab. Appl. 18(4); Ramdas, Garcia & Cuturi 2017, Entropy 19(2)
//	Moments          Moments           Welford 1962, Technometrics 4(3); Chan, Golub & LeVeque 1979 (pairwise update)
package stats
