package windows

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/stats/perf"
	"github.com/driftwatch/driftwatch/stats/sketch"
)

// Variants (the prediction log's "Champion, challengers and shadows",
// CONTRACT.md section 1): records that name a variant count, besides the
// window's figures, in their variant's own state (Variant): predictions,
// latencies, the labelled records' outcomes and errors. A shadow variant's records
// (VariantRoles.Shadows) are scored but not served: they count in their
// variant's state only, not in the window's (Records, features,
// prediction, outcomes, groups, latency), so that the model's figures are
// the served traffic's and a prediction id the champion and its shadow
// both log counts once.
//
// Pairs: a shadow deployment logs the same prediction_id once per variant.
// The window keeps its variants' records by prediction id (a bounded,
// mergeable sample: pairState) and, when it is sealed, pairs each
// variant's record with the champion's record of the same id: Agreement
// (do their decisions agree, how far apart are their numbers) and, over
// pairs labelled in their records, PairOutcomes (who was right), which
// late labels complete (join.go). Records are paired only within a window:
// a pair whose two records fall in different windows (timestamps either
// side of a window's edge) is not paired.

// VariantRoles names, for one model, the variant the others are compared
// and paired with, and the variants that are shadows: scored on the
// traffic but not served.
type VariantRoles struct {
	Champion string
	Shadows  []string
}

// DefaultChampion is the champion's name when none is configured.
const DefaultChampion = "champion"

// DefaultShadows are the shadow variants when none are configured.
var DefaultShadows = []string{"shadow"}

// DefaultVariantRoles returns the roles of a model without configured ones:
// DefaultChampion and DefaultShadows.
func DefaultVariantRoles() VariantRoles {
	return VariantRoles{Champion: DefaultChampion, Shadows: slices.Clone(DefaultShadows)}
}

// shadow reports whether variant v is a shadow.
func (r *VariantRoles) shadow(v string) bool { return slices.Contains(r.Shadows, v) }

// Variant is the state of one variant's records in a window: its
// predictions (Prediction, on the baseline's bins like the window's), their
// latency_ms (Latency, nil until a record has one), and, over its labelled
// records, the decisions' outcomes (Outcomes, as Window.Outcomes) and the
// errors of numeric predictions (ErrN, ErrAbs, ErrSq, as the window's);
// Scores counts its numeric predictions in the window's score bins
// (Window.Scores; nil where the window has none): its performance
// estimated without labels.
// Agreement and Paired compare its records with the champion's of the same
// prediction ids; they are set when the window is sealed, Paired then
// grows with late labels. A Variant is owned with its window.
type Variant struct {
	Prediction    Feature
	Latency       *sketch.Sketch
	Scores        []int64
	Outcomes      perf.Confusion
	ErrN          int64
	ErrAbs, ErrSq stats.Sum
	Agreement     Agreement
	Paired        PairOutcomes
}

// Agreement compares a variant's records with the champion's records of
// the same prediction ids in a window. Pairs counts the pairs in which
// both have a prediction, Agree those whose decisions agree (a numeric
// prediction at or above Config.Decision's threshold, a class among its
// positives) or, when both predictions are classes, whose classes are the
// same. NumPairs counts the pairs whose predictions are both numbers, and
// AbsDiff sums their |variant - champion| exactly.
type Agreement struct {
	Pairs, Agree int64
	NumPairs     int64
	AbsDiff      stats.Sum
}

// merge adds o into a.
func (a *Agreement) merge(o *Agreement) {
	a.Pairs += o.Pairs
	a.Agree += o.Agree
	a.NumPairs += o.NumPairs
	a.AbsDiff.Merge(&o.AbsDiff)
}

// PairOutcomes counts the labelled pairs of a variant and the champion (a
// variant's record and the champion's of the same prediction id, both
// with a prediction and a label) by who decided right: both, the champion
// only, the variant only, neither. McNemar's test reads the two discordant
// counts. For the pairs whose predictions and labels are numbers, ErrN
// counts them and ErrDiff, ErrDiffSq sum d = |variant's error| -
// |champion's error| and d^2 exactly: the paired t-test of their absolute
// errors.
type PairOutcomes struct {
	BothRight, ChampionOnly, VariantOnly, BothWrong int64
	ErrN                                            int64
	ErrDiff, ErrDiffSq                              stats.Sum
}

// N is the number of labelled pairs.
func (p *PairOutcomes) N() int64 { return p.BothRight + p.ChampionOnly + p.VariantOnly + p.BothWrong }

// merge adds o into p.
func (p *PairOutcomes) merge(o *PairOutcomes) {
	p.BothRight += o.BothRight
	p.ChampionOnly += o.ChampionOnly
	p.VariantOnly += o.VariantOnly
	p.BothWrong += o.BothWrong
	p.ErrN += o.ErrN
	p.ErrDiff.Merge(&o.ErrDiff)
	p.ErrDiffSq.Merge(&o.ErrDiffSq)
}

// add counts one labelled pair: whether the champion's and the variant's
// decisions were right, and, when errs, their errors of numeric
// predictions ec and ev.
func (p *PairOutcomes) add(champRight, varRight bool, errs bool, ec, ev float64) {
	switch {
	case champRight && varRight:
		p.BothRight++
	case champRight:
		p.ChampionOnly++
	case varRight:
		p.VariantOnly++
	default:
		p.BothWrong++
	}
	if errs {
		d := math.Abs(ev) - math.Abs(ec)
		p.ErrN++
		p.ErrDiff.Add(d)
		p.ErrDiffSq.Add(d * d)
	}
}

// latency returns v's latency sketch, making it.
func (v *Variant) latency() *sketch.Sketch {
	if v.Latency == nil {
		var err error
		if v.Latency, err = sketch.New(LatencyAccuracy); err != nil {
			panic(fmt.Sprintf("windows: latency sketch: %v", err)) // a constant accuracy: cannot happen
		}
	}
	return v.Latency
}

// merge adds o into v; bf is the baseline's prediction feature.
func (v *Variant) merge(o *Variant, bf *baselines.Feature, maxCategories int) error {
	v.Prediction.merge(&o.Prediction, bf, maxCategories)
	if o.Latency != nil {
		if err := v.latency().Merge(o.Latency); err != nil {
			return err
		}
	}
	addCounts(&v.Scores, o.Scores)
	v.mergeLabels(o)
	v.Agreement.merge(&o.Agreement)
	return nil
}

// mergeLabels adds o's label-derived state into v: outcomes, errors and
// labelled pairs.
func (v *Variant) mergeLabels(o *Variant) {
	v.Outcomes.Merge(o.Outcomes)
	v.ErrN += o.ErrN
	v.ErrAbs.Merge(&o.ErrAbs)
	v.ErrSq.Merge(&o.ErrSq)
	v.Paired.merge(&o.Paired)
}

// MaxPairRecords bounds the records a window keeps for pairing (pairState):
// about 60 bytes each, so a few megabytes per window at most.
const MaxPairRecords = 20_000

// pairRecord is what pairing keeps of one variant's record.
type pairRecord struct {
	pred  float64 // the numeric prediction, NaN for a class or none
	class uint64  // FNV-1a of a class prediction, 0 for a number
	y     float64 // the numeric label, NaN for none or a label that is no number
	// decided: it has a prediction; selected: a positive decision;
	// labelled: it carried a label; positive: a positive outcome.
	decided, selected, labelled, positive bool
}

type pairKey struct {
	id      uint64 // FNV-1a of the prediction id
	variant uint64 // FNV-1a of the variant's name
}

// pairState keeps a window's variant records by prediction id until the
// window is sealed: a sample of the ids, the same whatever the records'
// order and however the stream was split. Of every id offered it keeps
// those of smallest rank (pairRank, a fixed shuffle of the id's hash) such
// that their records number at most caps.pairs: the ids in rank order up
// to the first whose records would pass the cap. Both records of a pair
// have one id, so a pair is kept or dropped whole.
//
// The rule merges exactly, as caps.go's does. cut, once set, is the rank of
// the first id a part left out, and every id at or past it is left out
// from then on: with the records of the ids before it, that id's passed
// the cap in the part, so they do in the whole stream too, where every id
// has at least the records it has in any part. An id the whole stream keeps therefore ranks
// before every part's cut, and every part kept all its records; merging
// parts keeps the ids below the lowest of their cuts, whose records are
// all there, and pruning them to the cap gives the whole stream's sample.
// Past twice the cap a part prunes to the cap; sealing prunes to the cap.
type pairState struct {
	recs    map[pairKey]pairRecord
	cut     uint64
	cutSet  bool
	offered int64 // records offered, kept or not
}

// pairRank is the rank of a prediction id's hash in the pairing sample:
// the hash mixed by SplitMix64's finalizer, so that a sample of ids is not
// a run of similar ids (FNV-1a's high bits depend little on the last
// bytes).
func pairRank(id uint64) uint64 {
	id ^= id >> 30
	id *= 0xbf58476d1ce4e5b9
	id ^= id >> 27
	id *= 0x94d049bb133111eb
	return id ^ id>>31
}

// add offers one record of the variant of name hash v with prediction id
// hash id.
func (p *pairState) add(id, v uint64, r pairRecord) {
	p.offered++
	if p.cutSet && pairRank(id) >= p.cut {
		return
	}
	if p.recs == nil {
		p.recs = make(map[pairKey]pairRecord)
	}
	p.recs[pairKey{id, v}] = r
	if len(p.recs) > 2*caps.pairs {
		p.prune()
	}
}

// prune keeps the ids of smallest rank whose records number at most
// caps.pairs, lowering the cut to the first id left out.
func (p *pairState) prune() {
	if len(p.recs) <= caps.pairs {
		return
	}
	perID := make(map[uint64]int, len(p.recs))
	for k := range p.recs {
		perID[k.id]++
	}
	type ranked struct {
		rank uint64
		n    int
	}
	ids := make([]ranked, 0, len(perID))
	for id, n := range perID {
		ids = append(ids, ranked{pairRank(id), n})
	}
	slices.SortFunc(ids, func(a, b ranked) int { return cmp.Compare(a.rank, b.rank) })
	kept := 0
	for _, r := range ids {
		if kept+r.n > caps.pairs {
			p.lower(r.rank)
			break
		}
		kept += r.n
	}
}

// lower lowers the cut to c, dropping the records at or past it.
func (p *pairState) lower(c uint64) {
	if p.cutSet && p.cut <= c {
		return
	}
	p.cut, p.cutSet = c, true
	for k := range p.recs {
		if pairRank(k.id) >= c {
			delete(p.recs, k)
		}
	}
}

// merge adds o's records into p.
func (p *pairState) merge(o *pairState) {
	p.offered += o.offered
	if o.cutSet {
		p.lower(o.cut)
	}
	for k, r := range o.recs {
		if p.cutSet && pairRank(k.id) >= p.cut {
			continue
		}
		if p.recs == nil {
			p.recs = make(map[pairKey]pairRecord, len(o.recs))
		}
		p.recs[k] = r
	}
	if len(p.recs) > 2*caps.pairs {
		p.prune()
	}
}

// resolvePairs prunes the pairing sample to its cap, pairs each variant's
// records with the champion's (w.Champion) of the same id, adds what they
// show to the variants' Agreement and Paired, and frees the sample, keeping
// its cut (the late-label join pairs labels within the same sample) and
// counting in PairsDropped the records left out of it. It does it once: a
// window sealed again keeps its pairs.
func (w *Window) resolvePairs() {
	if w.pairsResolved {
		return
	}
	w.pairsResolved = true
	p := &w.pairs
	p.prune()
	w.PairsDropped += p.offered - int64(len(p.recs))
	champion := fnv1a(w.champion())
	if _, ok := w.Variants[w.champion()]; ok && len(w.Variants) > 1 {
		byHash := make(map[uint64]*Variant, len(w.Variants))
		for name, v := range w.Variants {
			byHash[fnv1a(name)] = v
		}
		champ := make(map[uint64]pairRecord)
		for k, r := range p.recs {
			if k.variant == champion {
				champ[k.id] = r
			}
		}
		for k, r := range p.recs {
			c, ok := champ[k.id]
			v := byHash[k.variant]
			if !ok || k.variant == champion || v == nil || !c.decided || !r.decided {
				continue
			}
			v.Agreement.Pairs++
			agree := c.selected == r.selected
			if c.class != 0 && r.class != 0 {
				agree = c.class == r.class
			}
			if agree {
				v.Agreement.Agree++
			}
			numeric := !math.IsNaN(c.pred) && !math.IsNaN(r.pred)
			if numeric {
				v.Agreement.NumPairs++
				v.Agreement.AbsDiff.Add(math.Abs(r.pred - c.pred))
			}
			if c.labelled && r.labelled {
				errs := numeric && !math.IsNaN(c.y) && !math.IsNaN(r.y)
				v.Paired.add(c.selected == c.positive, r.selected == r.positive, errs, c.pred-c.y, r.pred-r.y)
			}
		}
	}
	w.pairs = pairState{cut: p.cut, cutSet: p.cutSet}
}

// champion is w's champion, DefaultChampion when unset.
func (w *Window) champion() string {
	if w.Champion == "" {
		return DefaultChampion
	}
	return w.Champion
}

// inPairSample reports whether prediction id hash id ranks within w's
// pairing sample as sealed.
func (w *Window) inPairSample(id uint64) bool {
	return !w.pairs.cutSet || pairRank(id) < w.pairs.cut
}

// variantScratch is addRows' memory for splitting a batch's rows by
// variant, kept by the Assigner to reuse it.
type variantScratch struct {
	start, next, rows []int
	shadow            []bool   // per row of the batch: a shadow variant's (nil: none)
	served            []int    // the rows that are not
	classes           []uint64 // per prediction dictionary entry: FNV-1a of its text, 0 not yet known
}

// shadowRows returns, per row of rec, whether it is a shadow variant's
// record under roles (nil when none is), in sc.shadow.
func (sc *variantScratch) shadowRows(rec arrow.RecordBatch, roles *VariantRoles) []bool {
	vc := rec.Column(consumer.ColVariant).(*array.Dictionary)
	if len(roles.Shadows) == 0 || vc.NullN() == vc.Len() {
		return nil
	}
	dict := vc.Dictionary().(*array.String)
	var shadowEntry []bool
	for j := range dict.Len() {
		if roles.shadow(dict.Value(j)) {
			if shadowEntry == nil {
				shadowEntry = make([]bool, dict.Len())
			}
			shadowEntry[j] = true
		}
	}
	if shadowEntry == nil {
		return nil
	}
	n := int(rec.NumRows())
	sc.shadow = resize(sc.shadow, n)
	idx := newDictIndex(vc)
	for i := range n {
		sc.shadow[i] = vc.IsValid(i) && shadowEntry[idx.at(i)]
	}
	return sc.shadow
}

// addVariantRows adds rows of rec, all of the variant named name, to its
// state v (nil for a variant past w's cap) and offers them to w's pairing
// sample. The sample takes every variant's records, kept or not, so that
// it does not depend on which variants a part of the stream kept.
func (a *Assigner) addVariantRows(w *Window, name string, v *Variant, rec arrow.RecordBatch, rows []int) {
	pred := rec.Column(consumer.ColPrediction)
	if v != nil {
		v.Prediction.add(pred, rows, &w.Baseline.Prediction, a.cfg.MaxCategories)
		lat := rec.Column(consumer.ColLatency).(*array.Float64)
		vals := lat.Float64Values()
		for _, i := range rows {
			if x := vals[i]; lat.IsValid(i) && x >= 0 && !math.IsInf(x, 1) {
				v.latency().Add(x)
			}
		}
	}
	vh := fnv1a(name)
	labels := rec.Column(consumer.ColLabel).(*array.Dictionary)
	ldict := labels.Dictionary().(*array.String)
	lidx := newDictIndex(labels)
	ids := rec.Column(consumer.ColPredictionID).(*array.String)
	num, isNum := pred.(*array.Float64)
	pdict, isDict := pred.(*array.Dictionary)
	if isDict {
		a.variants.classes = resize(a.variants.classes, pdict.Dictionary().Len())
	}
	d := &a.cfg.Decision
	sc := &a.outcomes
	sc.reset(pred, 0, ldict.Len())
	defer sc.release()
	for _, i := range rows {
		r := pairRecord{pred: math.NaN(), y: math.NaN()}
		r.selected, r.decided = sc.selected(pred, i, d)
		switch {
		case isNum && num.IsValid(i) && !math.IsNaN(num.Value(i)):
			r.pred = num.Value(i)
			if v != nil && v.Scores != nil && r.decided {
				v.Scores[baselines.OutcomeBin(r.pred)]++
			}
		case isDict && pdict.IsValid(i):
			j := pdict.GetValueIndex(i)
			if a.variants.classes[j] == 0 {
				a.variants.classes[j] = fnv1a(pdict.Dictionary().(*array.String).Value(j)) | 1 // never 0
			}
			r.class = a.variants.classes[j]
		}
		if labels.IsValid(i) {
			l := sc.label(ldict, lidx.at(i), d)
			r.labelled, r.positive = true, l.positive
			if v != nil {
				v.Outcomes.Add(r.selected, l.positive, 1)
			}
			if l.numeric {
				r.y = l.y
				if v != nil && !math.IsNaN(r.pred) {
					e := r.pred - l.y
					v.ErrN++
					v.ErrAbs.Add(math.Abs(e))
					v.ErrSq.Add(e * e)
				}
			}
		}
		w.pairs.add(fnv1a(ids.Value(i)), vh, r)
	}
}
