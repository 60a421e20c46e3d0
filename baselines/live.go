package baselines

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Live is the set of baselines a running job compares with (as LoadDir
// returns it, read by For), replaceable while in use. Records decoded
// after a swap are decoded with the new set (Load); a window is compared
// with the set in effect at its start (At), so that every window has one
// baseline from start to end and every instance of a scaled-out job picks
// the same one. Every baseline ever in the set stays resolvable by id
// (ByID). Safe for concurrent use.
type Live struct {
	cur  atomic.Pointer[map[string]*Baseline]
	mu   sync.Mutex
	hist []liveSet            // by from, ascending; hist[0].from is the zero time
	byID map[string]*Baseline // VersionKey(model, id)
}

type liveSet struct {
	from time.Time
	set  map[string]*Baseline
}

// maxLiveSets bounds the sets a Live remembers for At: older ones apply to
// windows that closed long ago.
const maxLiveSets = 16

// NewLive returns a Live holding set for every window.
func NewLive(set map[string]*Baseline) *Live {
	l := &Live{byID: make(map[string]*Baseline)}
	l.index(set)
	l.hist = []liveSet{{set: set}}
	l.cur.Store(&set)
	return l
}

func (l *Live) index(set map[string]*Baseline) {
	for _, b := range set {
		l.byID[VersionKey(b.Model, b.ID)] = b
	}
}

// Load returns the set records are decoded with; callers must not change it.
func (l *Live) Load() map[string]*Baseline { return *l.cur.Load() }

// Swap makes set the set records are decoded with from now on, and the
// one windows starting at or after from are compared with. It reports the
// keys (models, or VersionKey) whose baseline changed, appeared or went
// away, sorted. A from before the last swap's counts as the last swap's.
func (l *Live) Swap(set map[string]*Baseline, from time.Time) (changed []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.index(set)
	old := *l.cur.Load()
	for k, b := range set {
		if o := old[k]; o == nil || o.ID != b.ID {
			changed = append(changed, k)
		}
	}
	for k := range old {
		if set[k] == nil {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	if last := l.hist[len(l.hist)-1].from; from.Before(last) {
		from = last
	}
	if l.hist[len(l.hist)-1].from.Equal(from) {
		l.hist[len(l.hist)-1].set = set
	} else {
		l.hist = append(l.hist, liveSet{from: from, set: set})
		if len(l.hist) > maxLiveSets {
			l.hist = slices.Delete(l.hist, 1, 2) // keep hist[0]'s zero from
		}
	}
	l.cur.Store(&set)
	return changed
}

// At returns the baseline (For) a window of model and version that starts
// at start is compared with: that of the set in effect at start.
func (l *Live) At(model, version string, start time.Time) *Baseline {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := len(l.hist) - 1
	for i > 0 && start.Before(l.hist[i].from) {
		i--
	}
	return For(l.hist[i].set, model, version)
}

// ByID returns the baseline of model with id that has been in the set,
// else nil.
func (l *Live) ByID(model, id string) *Baseline {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byID[VersionKey(model, id)]
}

// Add makes b resolvable by ByID without putting it in the set (a
// baseline read back from elsewhere, e.g. named by a stored window state).
func (l *Live) Add(b *Baseline) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byID[VersionKey(b.Model, b.ID)] = b
}

// Stamp is what a baselines directory holds, cheap to read: its baseline
// files and promoted.tsv, with their sizes and modification times. Two
// equal stamps mean nothing was added, removed, rewritten or promoted.
// Newest is the latest of the modification times.
func Stamp(dir string) (stamp string, newest time.Time, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("read baselines directory %s: %w", dir, err)
	}
	var sb strings.Builder
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || (name != promotedFile && filepath.Ext(name) != ".json") {
			continue
		}
		info, err := e.Info()
		if os.IsNotExist(err) {
			continue // removed since ReadDir
		}
		if err != nil {
			return "", time.Time{}, fmt.Errorf("read baselines directory %s: %w", dir, err)
		}
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
		fmt.Fprintf(&sb, "%s %d %d\n", name, info.Size(), info.ModTime().UnixNano())
	}
	return sb.String(), newest, nil
}

// File returns the path of baseline id's file in dir, as driftwatch
// baseline writes it (<id>.json); ok is false when id could name no file
// of dir (empty, a path, "." or "..").
func File(dir, id string) (path string, ok bool) {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) {
		return "", false
	}
	return filepath.Join(dir, id+".json"), true
}
