package windows

import (
	"cmp"
	"slices"
	"strings"

	"github.com/driftwatch/driftwatch/baselines"
)

// The capped maps of a window (a feature's categories, the groups of a
// segment attribute, the attributes, the variants) keep, of every name
// they were given, the k smallest by rank: a total order on names that
// does not depend on the records, their order or how a stream was split.
// A category among the baseline feature's categories ranks before one
// that is not; then names rank by their FNV-1a hash, then by the names
// themselves. Counts of the other names go to baselines.OtherCategory
// (categories, groups), or are dropped (attributes) or left to Prediction
// alone (variants). baselines.OtherCategory itself is never ranked: it is
// always kept and only accumulates.
//
// The rule merges exactly: a name among the k smallest of all names is
// among the k smallest of every part of the stream that holds it, so each
// part kept it, with its exact count, whatever the split; and the counts
// of the other names all reach OtherCategory, in some part or when the
// merged window is pruned. Window.Merge of any partial windows therefore
// equals the window of all their records.
//
// Memory stays bounded with a cut per map: once a map held more than 2k
// names it is pruned to its k smallest and its cut is the k-th smallest
// rank. A new name ranking past the cut goes to OtherCategory at once: k
// names seen already rank before it, so it cannot be among the k smallest
// of all. A name that ends up kept ranks at or before every cut set on the
// way (each cut is the k-th smallest rank of some of the names), so it is
// never turned away or pruned, and its count is exact. A map is pruned to
// exactly k names when its window is sealed (Window.Seal).
//
// The rank is computed only for a name a map does not hold yet, or when
// pruning: a known name costs a map lookup, as before.

// rank is a name's place in the order of its capped map.
type rank struct {
	unseen bool   // not among the baseline feature's categories
	hash   uint64 // FNV-1a of name
	name   string
}

// rankOf returns name's rank; bf, when not nil, is the baseline feature
// whose categories rank first.
func rankOf(name string, bf *baselines.Feature) rank {
	unseen := true
	if bf != nil {
		_, seen := bf.Categories[name]
		unseen = !seen
	}
	return rank{unseen: unseen, hash: fnv1a(name), name: name}
}

func (r rank) compare(o rank) int {
	if r.unseen != o.unseen {
		if r.unseen {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(r.hash, o.hash); c != 0 {
		return c
	}
	return cmp.Compare(r.name, o.name)
}

// cut is the highest rank a capped map still takes a new name at, once
// set: the k-th smallest rank it kept when it was last pruned. The zero
// value takes every name.
type cut struct {
	set bool
	r   rank
}

// rejects reports whether a new name, not held by the map, ranks past c:
// it computes the rank only when c is set.
func (c *cut) rejects(name string, bf *baselines.Feature) bool {
	return c.set && rankOf(name, bf).compare(c.r) > 0
}

// pruneNames keeps the k names of m smallest by rank (bf as in rankOf;
// with other, baselines.OtherCategory is neither ranked nor pruned),
// handing each other name and its value to drop before deleting it. It
// returns the cut the map keeps from now on, or ok false when m held at
// most k names and nothing changed. k must be positive.
func pruneNames[V any](m map[string]V, k int, bf *baselines.Feature, other bool, drop func(name string, v V)) (c cut, ok bool) {
	n := len(m)
	if _, has := m[baselines.OtherCategory]; other && has {
		n--
	}
	if n <= k {
		return cut{}, false
	}
	ranks := make([]rank, 0, n)
	for name := range m {
		if other && name == baselines.OtherCategory {
			continue
		}
		ranks = append(ranks, rankOf(name, bf))
	}
	slices.SortFunc(ranks, rank.compare)
	for _, r := range ranks[k:] {
		if drop != nil {
			drop(r.name, m[r.name])
		}
		delete(m, r.name)
	}
	return cut{set: true, r: ranks[k-1]}, true
}

// pruneCategories keeps f's k categories smallest by rank (bf as in
// rankOf) and counts the others under baselines.OtherCategory; with k
// zero or less, every category. It is a no-op when f keeps k or fewer.
func (f *Feature) pruneCategories(k int, bf *baselines.Feature) {
	if k <= 0 {
		for name, n := range f.Categories {
			if name != baselines.OtherCategory {
				f.Categories[baselines.OtherCategory] += n
				delete(f.Categories, name)
			}
		}
		return
	}
	if c, ok := pruneNames(f.Categories, k, bf, true, func(_ string, n int64) { f.Categories[baselines.OtherCategory] += n }); ok {
		f.capCut = c
	}
}

// caps are the bounds Window.group, Window.variant, Window.addErrorClass
// and Window.addUnknown keep: variables so that tests can make them small.
var caps = struct {
	attributes, groups, variants int // groups: named groups, OtherCategory aside
	pairs                        int // records in the pairing sample (variants.go)
	errorClasses, unknown        int // errorClasses: named classes, OtherCategory aside
}{MaxAttributes, MaxGroups - 1, MaxVariants, MaxPairRecords, MaxErrorClasses - 1, MaxUnknownFeatures}

// addErrorClass counts n failed records of error class c under the cap of
// caps.errorClasses names and the rank rule: a new class past the cut
// counts under baselines.OtherCategory, and past twice the cap the map
// keeps only its smallest names. A new key is copied: c may point into an
// Arrow buffer.
func (w *Window) addErrorClass(c string, n int64) {
	if _, ok := w.ErrorClasses[c]; ok {
		w.ErrorClasses[c] += n
		return
	}
	if w.ErrorClasses == nil {
		w.ErrorClasses = make(map[string]int64)
	}
	if c == baselines.OtherCategory || w.errorCut.rejects(c, nil) {
		w.ErrorClasses[baselines.OtherCategory] += n
		return
	}
	w.ErrorClasses[strings.Clone(c)] = n
	if len(w.ErrorClasses) > 2*caps.errorClasses+1 {
		w.pruneErrorClasses(caps.errorClasses)
	}
}

func (w *Window) pruneErrorClasses(k int) {
	if c, ok := pruneNames(w.ErrorClasses, k, nil, true, func(_ string, n int64) { w.ErrorClasses[baselines.OtherCategory] += n }); ok {
		w.errorCut = c
	}
}

// addUnknown counts n records carrying the feature name, unknown to the
// baseline, under the cap of caps.unknown names and the rank rule: a new
// name past the cut adds its count to UnknownDropped, and past twice the
// cap the map keeps only its smallest names. A new key is copied.
func (w *Window) addUnknown(name string, n int64) {
	if _, ok := w.Unknown[name]; ok {
		w.Unknown[name] += n
		return
	}
	if w.unknownCut.rejects(name, nil) {
		w.UnknownDropped += n
		return
	}
	if w.Unknown == nil {
		w.Unknown = make(map[string]int64)
	}
	w.Unknown[strings.Clone(name)] = n
	if len(w.Unknown) > 2*caps.unknown {
		w.pruneUnknown(caps.unknown)
	}
}

func (w *Window) pruneUnknown(k int) {
	if c, ok := pruneNames(w.Unknown, k, nil, false, func(_ string, n int64) { w.UnknownDropped += n }); ok {
		w.unknownCut = c
	}
}

// prune prunes w's attributes, groups and variants past twice their cap to
// their cap, or, with exact, every capped map of w past its cap (the
// features', the prediction's, the variants' and the labels' categories
// too). Never call it while pointers to groups or variants are held:
// addOutcomes caches groups for a batch, addRows uses a variant right
// after Window.variant returns it.
func (w *Window) prune(exact bool) {
	if exact || w.overCap {
		w.pruneGroups(exact)
		w.pruneVariants(exact)
		w.overCap = false
	}
	if !exact {
		return // categories, error classes and unknown names prune themselves past twice their cap
	}
	w.pruneErrorClasses(caps.errorClasses)
	w.pruneUnknown(caps.unknown)
	k := w.MaxCategories
	for i := range w.Features {
		w.Features[i].pruneCategories(k, &w.Baseline.Features[i])
	}
	var pred *baselines.Feature
	if w.Baseline != nil {
		pred = &w.Baseline.Prediction
	}
	w.Prediction.pruneCategories(k, pred)
	for _, v := range w.Variants {
		v.Prediction.pruneCategories(k, pred)
	}
	w.Labels.pruneCategories(k, nil)
}

func (w *Window) pruneGroups(exact bool) {
	limit := func(k int) int {
		if exact {
			return k
		}
		return 2 * k
	}
	if len(w.Groups) > limit(caps.attributes) {
		if c, ok := pruneNames(w.Groups, caps.attributes, nil, false, func(attr string, _ map[string]*Group) { delete(w.groupCuts, attr) }); ok {
			w.attrCut = c
		}
	}
	for attr, gs := range w.Groups {
		if len(gs) <= limit(caps.groups) {
			continue
		}
		c, ok := pruneNames(gs, caps.groups, nil, true, func(_ string, g *Group) {
			o := gs[baselines.OtherCategory]
			if o == nil {
				o = &Group{}
				gs[baselines.OtherCategory] = o
			}
			o.Decisions.Merge(g.Decisions)
			o.Outcomes.Merge(g.Outcomes)
		})
		if ok {
			if w.groupCuts == nil {
				w.groupCuts = make(map[string]cut)
			}
			w.groupCuts[attr] = c
		}
	}
}

func (w *Window) pruneVariants(exact bool) {
	k := caps.variants
	if !exact {
		k *= 2
	}
	if len(w.Variants) <= k {
		return
	}
	if c, ok := pruneNames(w.Variants, caps.variants, nil, false, nil); ok {
		w.variantCut = c
	}
}
