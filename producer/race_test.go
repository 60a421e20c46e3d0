//go:build race

package producer

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// the allocation counts of pooled paths do not hold.
const raceEnabled = true
