// Package sketch keeps mergeable, bounded-size summaries of a stream of
// float64 values and compares them: a DDSketch quantile sketch (Sketch), a
// fixed-edge histogram (Histogram), and the two-sample Kolmogorov-Smirnov
// statistic and first Wasserstein distance between two sketches, each with a
// computed bracket or bound on its error against the exact value on the raw
// samples.
//
// Why DDSketch and not KLL. Window state in driftwatch is merged across
// instances in whatever order partial windows arrive, so the merge must be
// exactly associative and commutative: the state after merging must depend
// only on the multiset of values added, never on grouping or order. A
// DDSketch with a fixed logarithmic mapping has this property (bucket counts
// are integers that add; the bucket bound collapses by a rule that depends
// only on the largest index seen, see Sketch). KLL's compactors choose which
// half of a buffer survives (randomly or alternately), so merged KLL states
// depend on merge order and its guarantee is probabilistic and additive in
// rank. DDSketch's guarantee is deterministic and relative in value, which
// also yields the deterministic KS and W1 bounds stated on KS and
// Wasserstein.
//
// The package deliberately does not: read or write anything but the byte
// slices of MarshalBinary/UnmarshalBinary (no I/O, logging or metrics), give
// p-values (a KS p-value on bucketed data with ties is not the textbook one;
// callers that need one pass the returned statistic to stats), weight values
// (each Add counts 1), keep a float sum or mean (float sums are not
// associative, which would break bit-identical merges), or synchronise:
// a Sketch or Histogram must not be used from several goroutines at once
// without external locking; functions that only read them (Quantile, CDF, KS,
// Wasserstein, MarshalBinary) may run concurrently with each other.
//
// References: Masson, C., Rim, J. E. and Lee, H. K. (2019), DDSketch: a fast
// and fully-mergeable quantile sketch with relative-error guarantees, Proc.
// VLDB Endow. 12(12); Karnin, Z., Lang, K. and Liberty, E. (2016), Optimal
// quantile approximation in streams, FOCS; Vallender, S. S. (1974),
// Calculation of the Wasserstein distance between probability distributions
// on the line, Theory Probab. Appl. 18(4).
package sketch
