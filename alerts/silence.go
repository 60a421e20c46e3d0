package alerts

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/driftwatch/driftwatch/sinks"
)

// MaxSilence is the longest a silence may last: a forgotten one must not
// hide a model's alerts for good.
const MaxSilence = 90 * 24 * time.Hour

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// NewSilence checks a silence asked for at now and gives it an id: at
// least one matcher (label name = value, on the alerts' labels: alertname,
// severity, model, model_version, family, subject and alerts.labels), an
// end after now and at most MaxSilence after its start (now if zero).
func NewSilence(matchers map[string]string, start, end time.Time, createdBy, comment string, now time.Time) (sinks.Silence, error) {
	if len(matchers) == 0 {
		return sinks.Silence{}, errors.New("a silence needs at least one matcher (e.g. model): it would silence every alert")
	}
	for name, v := range matchers {
		if !labelName.MatchString(name) {
			return sinks.Silence{}, fmt.Errorf("matcher %q: not a label name", name)
		}
		if v == "" {
			return sinks.Silence{}, fmt.Errorf("matcher %s: empty value", name)
		}
	}
	if start.IsZero() {
		start = now
	}
	switch {
	case !end.After(now):
		return sinks.Silence{}, fmt.Errorf("ends_at %s: not in the future", end.UTC().Format(time.RFC3339))
	case !end.After(start):
		return sinks.Silence{}, errors.New("ends_at: must be after starts_at")
	case end.Sub(start) > MaxSilence:
		return sinks.Silence{}, fmt.Errorf("a silence lasts at most %s, this one %s", MaxSilence, end.Sub(start).Round(time.Second))
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	return sinks.Silence{ID: hex.EncodeToString(id[:]), Matchers: maps.Clone(matchers), StartsAt: start.UTC(), EndsAt: end.UTC(),
		CreatedBy: createdBy, Comment: comment, UpdatedAt: now.UTC()}, nil
}

// Silenced reports whether s silences an alert with labels at time at.
func Silenced(s *sinks.Silence, labels map[string]string, at time.Time) bool {
	if at.Before(s.StartsAt) || !at.Before(s.EndsAt) {
		return false
	}
	for k, v := range s.Matchers {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Silences is the set of silences a Manager mutes alerts by. Safe for
// concurrent use.
type Silences struct {
	mu sync.Mutex
	m  map[string]sinks.Silence
}

// Put adds s or replaces the silence with its id.
func (ss *Silences) Put(s sinks.Silence) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m == nil {
		ss.m = make(map[string]sinks.Silence)
	}
	if old, ok := ss.m[s.ID]; ok && old.UpdatedAt.After(s.UpdatedAt) {
		return // a newer state of it is known (an expiry)
	}
	ss.m[s.ID] = s
}

// Get returns the silence with id.
func (ss *Silences) Get(id string) (sinks.Silence, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	return s, ok
}

// Match returns a silence that silences labels at at, the one ending last.
func (ss *Silences) Match(labels map[string]string, at time.Time) (sinks.Silence, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var best sinks.Silence
	found := false
	for _, s := range ss.m {
		if Silenced(&s, labels, at) && (!found || s.EndsAt.After(best.EndsAt)) {
			best, found = s, true
		}
	}
	return best, found
}

// Active returns the silences not ended at at (also those not started
// yet), by end, and forgets those ended more than a day before.
func (ss *Silences) Active(at time.Time) []sinks.Silence {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var out []sinks.Silence
	for id, s := range ss.m {
		switch {
		case s.EndsAt.After(at):
			out = append(out, s)
		case at.Sub(s.EndsAt) > 24*time.Hour:
			delete(ss.m, id)
		}
	}
	slices.SortFunc(out, func(a, b sinks.Silence) int {
		if c := a.EndsAt.Compare(b.EndsAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
