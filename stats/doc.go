// Package stats computes drift statistics between a reference and a current
// distribution: pure functions on bin counts, weights or raw samples.
//
// It does: compare two histograms over the same bins (PSI, binned
// Kolmogorov-Smirnov, Anderson-Darling and Cramér-von Mises,
// chi-squared and G homogeneity tests, Jensen-Shannon,
// Hellinger, Kullback-Leibler, total-variation and L-infinity distances),
// compare two raw or weighted samples (two-sample Kolmogorov-Smirnov with
// exact or asymptotic p-values, k-sample Anderson-Darling, Cramér-von Mises,
// energy and first Wasserstein distances, Welch's t-test), test means from
// Moments and two proportions, test paired outcomes (McNemar's exact test)
// and paired differences (Student's paired t-test), keep mergeable running moments (Welford) and
// exact running sums (Sum, and Acc, a superaccumulator that feeds a Sum
// many values at a fifth of the cost), and coarsen a fine histogram into
// roughly equal-mass groups for PSI.
//
// It deliberately does not: read or write anything (no I/O, no logging, no
// metrics), know about windows, baselines, features or thresholds, decide
// whether a value means "drift", build histograms or choose bin edges, or
// hold state other than the caller-owned Moments, Sum and Acc values.
// Callers align bins; every function that takes two count vectors requires
// them to describe the same bins in the same order and panics if their
// lengths differ (a programmer error). Data problems (empty input, a zero
// total, a negative or non-finite count or weight, counts whose total
// overflows float64) yield NaN rather than a panic or an error; each
// function's doc lists its cases, and fuzz targets (fuzz_test.go,
// fuzz2_test.go) check that every other input gives a result in the
// documented range.
//
// All functions are safe for concurrent use and never modify or retain their
// input slices (the methods of Moments, Sum and Acc modify their receiver;
// AddGrouped its accumulators and sums). Results are checked against SciPy and statsmodels by golden
// tests: testdata/golden/gen_core.py, gen_stats.py, gen_power.py and
// gen_ranktests.py and gen_paired.py write core.json, stats.json, power.json,
// ranktests.json and paired.json beside them (`make golden`, with the
// versions pinned in testdata/golden/requirements.txt).
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
//	Kolmogorov D_n   KolmogorovN       Simard & L'Ecuyer 2011, J. Stat. Softw. 39(11); scipy.stats.kstwo (Durbin/Pomeranz/Pelz-Good/Smirnov)
//	Two-sample KS    KS2SampAuto       Hodges 1958, Ark. Mat. 3(43); Viehmann 2021; scipy.stats.ks_2samp(method='auto')
//	Anderson-Darling AndersonDarlingKSample, AndersonDarlingBinned  Scholz & Stephens 1987, JASA 82(399); scipy.stats.anderson_ksamp (midrank; p capped to [0.001, 0.25])
//	Cramér-von Mises CramerVonMises2Samp     Anderson 1962, Ann. Math. Stat. 33(3); Xiao et al. 2006; scipy.stats.cramervonmises_2samp
//	Cramér-von Mises CramerVonMisesBinned    Anderson 1962 on mid-ECDFs (Ruymgaart 1980); Smirnov 1936 (upper tail); scipy's without ties
//	Energy distance  EnergyDistance    Székely & Rizzo 2013, J. Stat. Plan. Inference 143(8); scipy.stats.energy_distance
//	Welch t          WelchTTest, WelchTTestMoments  Welch 1947, Biometrika 34; scipy.stats.ttest_ind(equal_var=False)
//	z-test of means  ZTestMeans        large-sample normal test on Moments
//	Normalized W1    WassersteinNormalized  W1 / std(ref) (Evidently)
//	Hellinger        Hellinger         Hellinger 1909; sqrt(1 - Bhattacharyya coefficient) (WhyLabs)
//	Kullback-Leibler KLDivergence      Kullback & Leibler 1951; scipy.stats.entropy(p, q)
//	Total variation  TotalVariation    0.5 * L1 distance of proportions
//	L-infinity       LInfinity         Vertex AI Model Monitoring categorical skew
//	G-test           GTest             Woolf 1957; scipy.stats.chi2_contingency(lambda_="log-likelihood")
//	Two proportions  ProportionZTest   Fleiss et al. 2003; statsmodels proportions_ztest
//	McNemar (exact)  McNemarExact      McNemar 1947, Psychometrika 12(2); statsmodels mcnemar(exact=True)
//	Paired t         PairedTTestMoments  Student 1908, Biometrika 6(1); scipy.stats.ttest_rel
//	Exact sum        Sum, Acc          Shewchuk 1997, Discrete Comput. Geom. 18(3) (Python's math.fsum); Neal 2015, arXiv:1505.05571 (xsum's small superaccumulator)
package stats
