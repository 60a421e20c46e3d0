package actions

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestVerifyRejectsReplayByDefault: with no options, Verify judges the
// timestamp by the wall clock with a 5-minute tolerance: a request signed
// a year ago, or a year ahead, is refused although its signature is right.
func TestVerifyRejectsReplayByDefault(t *testing.T) {
	body := []byte(`{"version":1,"id":"retrain/fraud/3/2026-11-23T12:00:00Z"}`)
	for _, c := range []struct {
		name  string
		at    time.Time
		valid bool
	}{
		{"now", time.Now(), true},
		{"a year old", time.Now().AddDate(-1, 0, 0), false},
		{"a year ahead", time.Now().AddDate(1, 0, 0), false},
	} {
		ts := strconv.FormatInt(c.at.Unix(), 10)
		err := Verify(testSecret, ts, sign(testSecret, ts, body), body)
		if c.valid && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.valid && !errors.Is(err, ErrSignature) {
			t.Errorf("%s: Verify accepted a replay (error %v)", c.name, err)
		}
	}
}

// TestVerifyTolerance: a correctly signed request is accepted when its
// timestamp is at most the tolerance (default 5 minutes) from the clock,
// either way, and refused with ErrStale (and ErrSignature) past it; a
// malformed timestamp is refused before any of that.
func TestVerifyTolerance(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clock := WithClock(func() time.Time { return now })
	body := []byte(`{"version":1,"id":"rollback/fraud/4/2026-11-23T11:00:00Z"}`)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	cases := []struct {
		name string
		ts   string
		opts []VerifyOption
		want string // "" accepted
	}{
		{"now", at(0), nil, ""},
		{"within tolerance, old", at(-4*time.Minute - 59*time.Second), nil, ""},
		{"within tolerance, ahead", at(4*time.Minute + 59*time.Second), nil, ""},
		{"exact boundary, old", at(-5 * time.Minute), nil, ""},
		{"exact boundary, ahead", at(5 * time.Minute), nil, ""},
		{"one second too old", at(-5*time.Minute - time.Second), nil, "5m1s old, past the tolerance of 5m0s"},
		{"one second too far ahead", at(5*time.Minute + time.Second), nil, "5m1s ahead, past the tolerance of 5m0s"},
		{"a year old", at(-365 * 24 * time.Hour), nil, "8760h0m0s old"},
		{"a year ahead", at(365 * 24 * time.Hour), nil, "8760h0m0s ahead"},
		{"the epoch", "0", nil, "old, past the tolerance"},
		{"the end of int64", strconv.FormatInt(1<<63-1, 10), nil, "ahead, past the tolerance"},
		{"wider tolerance, within", at(-59 * time.Minute), []VerifyOption{WithTolerance(time.Hour)}, ""},
		{"wider tolerance, past", at(-61 * time.Minute), []VerifyOption{WithTolerance(time.Hour)}, "1h1m0s old, past the tolerance of 1h0m0s"},
		{"narrower tolerance, past", at(-2 * time.Second), []VerifyOption{WithTolerance(time.Second)}, "2s old, past the tolerance of 1s"},
		{"malformed: empty", "", nil, `timestamp "" is not unix seconds`},
		{"malformed: letters", "17954352OO", nil, `timestamp "17954352OO" is not unix seconds`},
		{"malformed: fraction", at(0) + ".5", nil, "is not unix seconds"},
		{"malformed: RFC 3339", now.Format(time.RFC3339), nil, "is not unix seconds"},
		{"malformed: past int64", "9223372036854775808", nil, "is not unix seconds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(testSecret, c.ts, sign(testSecret, c.ts, body), body, append([]VerifyOption{clock}, c.opts...)...)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Verify: %v", err)
			case c.want != "" && (!errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Verify: %v, want ErrSignature with %q", err, c.want)
			case c.want != "" && strings.Contains(c.name, "malformed") == errors.Is(err, ErrStale):
				t.Fatalf("Verify: %v: ErrStale %v, want it only for a well-formed timestamp out of tolerance", err, errors.Is(err, ErrStale))
			}
		})
	}
	// A stale timestamp with a wrong signature is a mismatch: only an
	// authentic request learns that its clock is off.
	ts := at(-time.Hour)
	if err := Verify([]byte("another secret"), ts, sign(testSecret, ts, body), body, clock); !errors.Is(err, ErrSignature) || errors.Is(err, ErrStale) {
		t.Errorf("stale and forged: %v, want a mismatch", err)
	}
	for _, d := range []time.Duration{0, -time.Minute} {
		if err := Verify(testSecret, at(0), sign(testSecret, at(0), body), body, clock, WithTolerance(d)); err == nil || errors.Is(err, ErrSignature) {
			t.Errorf("tolerance %v: %v, want an error about the tolerance", d, err)
		}
	}
}
