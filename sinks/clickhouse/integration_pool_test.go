package clickhouse

import (
	"context"
	"testing"
	"time"
)

// TestIntegrationCommitLeavesPoolUsable: a commit's context ends right
// after its last insert (its deferred cancel). clickhouse-go watches a
// batch's context from a goroutine that can see it end after Send returned
// the connection to the pool, and then closes that connection under the
// next query ("use of closed network connection": a start-up failure of
// run seen about once in 15 starts; clickhouse-go PR 2032). The race is
// narrow and did not show in this loop on the unfixed code here; the test
// guards the pool against any insert path that ends its context late.
func TestIntegrationCommitLeavesPoolUsable(t *testing.T) {
	cfg, _ := freshDatabase(t)
	cfg.MaxOpenConns = 1
	s := openSink(t, cfg)
	start := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		commit(t, s, testRows(start.Add(time.Duration(i)*time.Hour), float64(i)))
		if _, err := s.Committed(context.Background()); err != nil {
			t.Fatalf("query after commit %d: %v", i+1, err)
		}
	}
}
