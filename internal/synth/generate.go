package synth

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/driftwatch/driftwatch/internal/jsontext"
)

// DefaultReferenceSpan is the period before Config.Start over which
// Reference spreads the timestamps of its training records when
// Config.ReferenceSpan is 0.
const DefaultReferenceSpan = 7 * 24 * time.Hour

// Shares and latencies of the synthetic serving stack.
const (
	challengerShare   = 0.1  // share of records served by the "challenger" variant
	championLatencyMS = 12.0 // median latency of the champion
	challengerLatency = 15.0 // median latency of the challenger, ms
	shadowLatency     = 22.0 // median latency of the shadow, ms
	latencySigma      = 0.35 // sigma of log latency
	scoreIntercept    = -1.5 // intercept of the default logistic score
	scoreWeight       = 1.2  // total weight of the default score's numeric inputs
	zLimit            = 5.0  // |z| bound of a standardized input of the default score
	featureDecimals   = 4
	latencyDecimals   = 1
	referenceFlush    = 60 << 10 // bytes Reference buffers between writes
	arenaChunk        = 1 << 20  // bytes per arena allocation of Generate
)

// badTimestampLayout is the layout of deliberately unparseable timestamps.
const badTimestampLayout = "02/01/2006 15:04:05"

// Names of the independent random streams (with the model's and, per
// feature, the feature's name).
const (
	purposeServe     = "serve"
	purposeReference = "reference"
)

// Message is one record as the synthetic serving stack sends it.
//
// Key is the record's prediction_id and Value its JSON text. Generate never
// modifies Key or Value after handing them over, so the receiver may keep
// them (for example in a Kafka producer's buffer); they are capacity-capped
// slices of larger shared allocations, so appending to them copies.
type Message struct {
	Key, Value []byte
	// Time is the record's event time, the "timestamp" in Value (UTC, whole
	// milliseconds). For a bad record it is the time the record would have
	// carried, even when Value has no parseable timestamp.
	Time  time.Time
	Model string
	// Bad says the record breaks the contract (see Config.BadRate).
	Bad bool
	// Window is the 0-based window that Time falls in.
	Window int
	// Duplicate says the record is an exact resend of an earlier Message:
	// same Key and Value (see Config.DuplicateRate). The first send has
	// Duplicate false.
	Duplicate bool
	// Shadow says the record is a shadow's of the champion's record of the
	// same Key sent before it (Model.ShadowShare): another variant and
	// prediction, not a duplicate.
	Shadow bool
	// Label says Value is a late label (Model.LabelDelay) for the labels
	// topic, not a prediction record; Time is then the label's timestamp.
	Label bool
	// Arrival is when the serving stack sends the record: Time plus its
	// delay of up to Config.Jitter (a duplicate's, later than its first
	// send's), or a label's Time. Generate yields in order of Arrival.
	Arrival time.Time
}

// badKind says how a record breaks the contract, if it does.
type badKind int

const (
	good badKind = iota
	badNotJSON
	badNoTimestamp
	badTimestamp
	badPrediction
	badFeatures
	numBadKinds = badFeatures // the bad kinds are 1..numBadKinds
)

// Generate validates the configuration, then passes every record of every
// window and model to yield, in order of arrival: event time plus a delay of
// up to Jitter, so that timestamps are in order except for Jitter. The
// models' records are interleaved. It stops at, and returns unchanged, the
// first error from yield.
//
// Each model sends exactly RecordsPerWindow records per window, spread
// uniformly over the window, of which a share BadRate is bad; a share
// DuplicateRate of the good ones is sent a second time. Generate holds at
// most about two windows of records in memory and calls yield from the
// calling goroutine.
func (c Config) Generate(yield func(Message) error) error {
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return fmt.Errorf("invalid synth config: %w", err)
	}
	gens := make([]*modelGen, len(c.Models))
	for i := range c.Models {
		gens[i] = newModelGen(c.Seed, purposeServe, &c.Models[i])
	}
	var (
		mem       arena
		pending   []item
		seq       int64
		n         = c.RecordsPerWindow
		perWindow = n * len(c.Models)
		step      = float64(c.Window) / float64(n)
		jitter    = float64(c.Jitter)
	)
	emit := func(upTo int) error {
		for _, it := range pending[:upTo] {
			m := *it.msg
			m.Arrival = time.Unix(0, it.arrival).UTC()
			if err := yield(m); err != nil {
				return err
			}
		}
		rest := copy(pending, pending[upTo:])
		clear(pending[rest:]) // drop references to emitted memory
		pending = pending[:rest]
		return nil
	}
	for w := range c.Windows {
		start := c.Start.Add(time.Duration(w) * c.Window)
		// The window's items point into batch once it is complete: item
		// first+k holds batch[k].
		batch := make([]Message, 0, perWindow+perWindow/64)
		first := len(pending)
		for _, g := range gens {
			g.setWindow(w)
			for i := range n {
				r, err := g.draw(start, i, step, c.Window)
				if err != nil {
					return fmt.Errorf("generate records of model %q: %w", g.model.Name, err)
				}
				uBad, uDup, uDupDelay := g.faults.Float64(), g.faults.Float64(), g.faults.Float64()
				kind := good
				if uBad < c.BadRate {
					kind = badKind(1 + g.bad%int(numBadKinds))
					g.bad++
				}
				mem.reserve(2*g.maxLen + 1024)
				at := len(mem.buf)
				mem.buf = g.appendRecord(mem.buf, &r, kind)
				value := mem.buf[at:len(mem.buf):len(mem.buf)]
				g.maxLen = max(g.maxLen, len(value))
				batch = append(batch, Message{
					Key:    mem.copy(r.id[:]),
					Value:  value,
					Time:   r.t,
					Model:  g.model.Name,
					Bad:    kind != good,
					Window: w,
				})
				arrival := r.t.UnixNano() + int64(r.delay*jitter)
				pending = append(pending, item{arrival: arrival, order: seq << 2})
				if kind == good && uDup < c.DuplicateRate {
					dup := batch[len(batch)-1]
					dup.Key, dup.Value, dup.Duplicate = mem.copy(dup.Key), mem.copy(dup.Value), true
					batch = append(batch, dup)
					// Resent between the first send and the jitter bound.
					again := arrival + int64(uDupDelay*(1-r.delay)*jitter)
					pending = append(pending, item{arrival: again, order: seq<<2 | 1})
				}
				if sr, ok := g.shadowOf(&r, kind); ok {
					mem.reserve(2*g.maxLen + 1024)
					at := len(mem.buf)
					mem.buf = g.appendRecord(mem.buf, &sr, good)
					value := mem.buf[at:len(mem.buf):len(mem.buf)]
					batch = append(batch, Message{Key: mem.copy(sr.id[:]), Value: value, Time: sr.t, Model: g.model.Name, Window: w, Shadow: true})
					// Logged by the same stack right after the champion's.
					pending = append(pending, item{arrival: arrival + int64(sr.delay*float64(time.Millisecond)), order: seq<<2 | 3})
				}
				if kind == good && r.lateLabel >= 0 {
					lt := r.t.Add(r.labelDelay)
					mem.reserve(256)
					at := len(mem.buf)
					mem.buf = g.appendLabel(mem.buf, &r, lt)
					label := mem.buf[at:len(mem.buf):len(mem.buf)]
					batch = append(batch, Message{Key: mem.copy(r.id[:]), Value: label, Time: lt, Model: g.model.Name, Window: w, Label: true})
					pending = append(pending, item{arrival: lt.UnixNano(), order: seq<<2 | 2})
				}
				seq++
			}
		}
		for k := range batch {
			pending[first+k].msg = &batch[k]
		}
		slices.SortFunc(pending, compareItems)
		// Records of later windows arrive at or after their event time,
		// which is at or after this window's end.
		end := start.Add(c.Window).UnixNano()
		upTo, _ := slices.BinarySearchFunc(pending, end, func(it item, t int64) int { return cmp.Compare(it.arrival, t) })
		if err := emit(upTo); err != nil {
			return err
		}
	}
	return emit(len(pending))
}

// item is a Message waiting for its arrival time. Items sort by arrival,
// then by order: the record's sequence number times 2, plus 1 for a
// duplicate.
type item struct {
	arrival int64 // Unix nanoseconds
	order   int64
	msg     *Message
}

func compareItems(a, b item) int {
	if c := cmp.Compare(a.arrival, b.arrival); c != 0 {
		return c
	}
	return cmp.Compare(a.order, b.order)
}

// arena carves capacity-capped byte slices out of large chunks, so that
// Generate allocates per megabyte rather than per record. Chunks are never
// reused: the garbage collector frees one once no Message refers to it.
type arena struct{ buf []byte }

// reserve makes room for n more bytes in the current chunk, so that
// appending up to n bytes to buf does not move it.
func (a *arena) reserve(n int) {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(arenaChunk, n))
	}
}

// copy returns a capacity-capped copy of p.
func (a *arena) copy(p []byte) []byte {
	a.reserve(len(p))
	start := len(a.buf)
	a.buf = append(a.buf, p...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// Reference writes n training records of the named model to w as JSON lines
// in the contract format: no drift, no bad records, no duplicates, variant
// "champion" or "challenger" as in production, timestamps spread uniformly
// over the Config.ReferenceSpan before Start, and, for models with Classes, a label
// (1 for Classes[0], else 0) drawn with the predicted probability. Its random
// streams are separate from Generate's, so its records are new draws from
// the undrifted distributions. Reference buffers its output and writes it in
// chunks of about 60 KiB.
func (c Config) Reference(model string, n int, w io.Writer) error {
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return fmt.Errorf("invalid synth config: %w", err)
	}
	i := slices.IndexFunc(c.Models, func(m Model) bool { return m.Name == model })
	if i < 0 {
		return fmt.Errorf("write reference records of model %q: no such model", model)
	}
	if n < 0 {
		return fmt.Errorf("write %d reference records of model %q: want n >= 0", n, model)
	}
	g := newModelGen(c.Seed, purposeReference, &c.Models[i])
	g.setWindow(-1)
	base := c.Start.Add(-c.ReferenceSpan)
	step := float64(c.ReferenceSpan) / float64(max(n, 1))
	buf := make([]byte, 0, referenceFlush+4096)
	for j := range n {
		r, err := g.draw(base, j, step, c.ReferenceSpan)
		if err != nil {
			return fmt.Errorf("write reference records of model %q: %w", model, err)
		}
		if u := g.labels.Float64(); r.scored {
			r.label = 0
			if u < r.pred {
				r.label = 1
			}
		}
		buf = g.appendRecord(buf, &r, good)
		buf = append(buf, '\n')
		if len(buf) >= referenceFlush || j == n-1 {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("write reference records of model %q: %w", model, err)
			}
			buf = buf[:0]
		}
	}
	return nil
}

// modelGen draws the records of one model. It is not safe for concurrent
// use.
type modelGen struct {
	model     *Model
	feats     []featGen
	ids       []byte    // `,"model":…,"model_version":…`
	classes   [2][]byte // `"positive":` and `"negative":`
	ageIdx    int       // index of the numeric feature "age", or -1
	intercept float64

	meta   *rand.Rand // times, ids, delays, segments, variant, latency
	faults *rand.Rand // bad and duplicate decisions
	labels *rand.Rand // Reference's labels
	shadow *rand.Rand // the shadow's records: which, their predictions, latencies and delays
	errs   *rand.Rand // failed predictions and their classes

	window int // the window being drawn
	vals   []value
	inputs map[string]any // Predict's argument, reused
	bad    int            // bad records so far, to cycle their kinds
	maxLen int            // longest record so far, bytes
}

// featGen draws one feature.
type featGen struct {
	spec   *Feature
	key    []byte   // `"name":`
	newKey []byte   // `"name_v2":`, its key after a Renamed drift
	cats   [][]byte // categories as JSON strings
	drifts []Drift
	rng    *rand.Rand
	dec    int     // decimals written
	center float64 // undrifted centre on the drawn scale
	unit   float64 // undrifted standard deviation on the drawn scale
	coef   float64 // weight in the default score; 0 for non-numeric kinds

	// other is the feature this one is correlated with (CorrelateWith),
	// lastZ the last standard normal draw, rho the correlation in the
	// current window.
	other *featGen
	lastZ float64
	rho   float64
	// Parameters in the current window, after drift.
	loc, spread, p float64
	cdf            []float64
	cycled         []float64 // the CDF moved by a Daily cycle, reused
	// Quality breakage in the current window (Nulls, Absent, WrongType,
	// Unseen, Renamed); broken says the feature has such drifts at all, in
	// which case every sample draws one more uniform to decide them.
	nullRate, absent, wrongType, unseen, renamed float64
	broken                                       bool
}

// value is one drawn feature value: num for numeric kinds and Bool (0 or 1),
// cat for Categorical.
type value struct {
	num  float64
	cat  int
	null bool
	// Quality breakage: the key left out, a string for a number, a
	// category the reference never had, the key renamed.
	absent, wrongType, unseen, renamed bool
}

// record is one drawn record before encoding.
type record struct {
	id         [uuidLen]byte
	t          time.Time
	delay      float64 // arrival after t, as a share of Jitter
	female     bool
	challenger bool
	shadow     bool // a shadow's record (variant "shadow")
	latency    float64
	pred, comp float64 // numeric prediction and 1 - prediction
	predStr    string
	isStr      bool
	dec        int  // decimals of pred and comp; -1: shortest exact form
	scored     bool // write "scores"
	label      int  // -1: null
	lateLabel  int  // -1: none; else the label sent late, labelDelay after t
	labelDelay time.Duration
	errClass   string // a failed prediction's error class; "" for a served one
}

func newModelGen(seed int64, purpose string, m *Model) *modelGen {
	g := &modelGen{
		model:     m,
		feats:     make([]featGen, len(m.Features)),
		ageIdx:    -1,
		intercept: scoreIntercept,
		meta:      newStream(seed, purpose, m.Name, "meta"),
		faults:    newStream(seed, purpose, m.Name, "faults"),
		labels:    newStream(seed, purpose, m.Name, "labels"),
		shadow:    newStream(seed, purpose, m.Name, "shadow"),
		errs:      newStream(seed, purpose, m.Name, "errors"),
		vals:      make([]value, len(m.Features)),
	}
	g.ids = append(g.ids, `,"model":`...)
	g.ids = jsontext.AppendString(g.ids, m.Name)
	g.ids = append(g.ids, `,"model_version":`...)
	g.ids = jsontext.AppendString(g.ids, m.Version)
	if len(m.Classes) == 2 {
		for i, c := range m.Classes {
			g.classes[i] = append(jsontext.AppendString(nil, c), ':')
		}
	}
	if m.Predict != nil {
		g.inputs = make(map[string]any, len(m.Features))
	}
	var numeric int
	for _, f := range m.Features {
		if f.Kind.numeric() {
			numeric++
		}
	}
	j := 0
	for i := range m.Features {
		f := &m.Features[i]
		fg := &g.feats[i]
		fg.spec = f
		fg.key = append(jsontext.AppendString(nil, f.Name), ':')
		fg.newKey = append(jsontext.AppendString(nil, f.Name+RenamedSuffix), ':')
		fg.rng = newStream(seed, purpose, m.Name, "feature", f.Name)
		fg.dec = featureDecimals
		if f.Integer || f.Kind == Poisson {
			fg.dec = 0
		}
		for _, c := range f.Categories {
			fg.cats = append(fg.cats, jsontext.AppendString(nil, c))
		}
		for _, d := range m.Drifts {
			if d.Feature == f.Name {
				fg.drifts = append(fg.drifts, d)
			}
		}
		if f.CorrelateWith != "" {
			for k := range i {
				if m.Features[k].Name == f.CorrelateWith {
					fg.other = &g.feats[k]
				}
			}
		}
		switch f.Kind {
		case Normal, LogNormal:
			fg.center, fg.unit = f.Mean, f.Std
		case Uniform:
			fg.center, fg.unit = (f.Min+f.Max)/2, (f.Max-f.Min)/math.Sqrt(12)
		case Poisson:
			fg.center, fg.unit = f.Lambda, math.Sqrt(f.Lambda)
		}
		if f.Kind.numeric() {
			// Fixed weights of alternating sign and varying size (the
			// golden angle spreads them), with total weight scoreWeight.
			fg.coef = scoreWeight / math.Sqrt(float64(numeric)) * math.Cos(2.39996*float64(j))
			j++
			if f.Name == "age" && g.ageIdx < 0 {
				g.ageIdx = i
			}
		}
	}
	return g
}

// setWindow sets every feature's parameters to those of window w, applying
// the drifts that started at or before w. Window -1 is the undrifted state.
func (g *modelGen) setWindow(w int) {
	g.window = w
	for i := range g.feats {
		g.feats[i].setWindow(w)
	}
}

func (fg *featGen) setWindow(w int) {
	f := fg.spec
	switch f.Kind {
	case Normal, LogNormal:
		fg.loc, fg.spread = f.Mean, f.Std
	case Uniform:
		fg.loc, fg.spread = (f.Min+f.Max)/2, (f.Max-f.Min)/2
	case Poisson:
		fg.loc, fg.spread = f.Lambda, 1
	case Bool:
		fg.p = f.P
	}
	weights := f.Weights
	fg.rho = f.Correlation
	fg.nullRate, fg.absent, fg.wrongType, fg.unseen, fg.renamed = f.NullRate, 0, 0, 0, 0
	for _, d := range fg.drifts {
		switch d.Kind {
		case Nulls, Absent, WrongType, Unseen, Renamed:
			fg.broken = true
		}
		if d.FromWindow > w || d.ToWindow > 0 && w >= d.ToWindow {
			continue
		}
		switch d.Kind {
		case Nulls:
			fg.nullRate = d.Amount
		case Absent:
			fg.absent = d.Amount
		case WrongType:
			fg.wrongType = d.Amount
		case Unseen:
			fg.unseen = d.Amount
		case Renamed:
			fg.renamed = d.Amount
		case Correlate:
			fg.rho = d.Amount
		case Shift:
			fg.loc += d.Amount * fg.unit
		case Scale:
			fg.spread *= d.Amount
		case Mix:
			if f.Kind == Categorical {
				weights = d.NewWeights
			} else {
				fg.p = d.Amount
			}
		}
	}
	if f.Kind == Categorical {
		fg.cdf = cumulative(weights, len(f.Categories))
	}
}

// sample draws one value at hour of the day h (UTC, fractional; used only
// by features with a Daily cycle). The null decision and the value are
// always both drawn, so NullRate does not change the values.
func (fg *featGen) sample(h float64) value {
	r := fg.rng
	v := value{null: r.Float64() < fg.nullRate}
	if fg.broken {
		u := r.Float64() // one draw decides the breakage: shares add up, at most one applies
		switch {
		case u < fg.absent:
			v.absent = true
		case u < fg.absent+fg.wrongType:
			v.wrongType = true
		case u < fg.absent+fg.wrongType+fg.unseen:
			v.unseen = true
		case u < fg.absent+fg.wrongType+fg.unseen+fg.renamed:
			v.renamed = true
		}
	}
	loc, p, cdf := fg.loc, fg.p, fg.cdf
	if d := fg.spec.Daily; d != 0 {
		loc, p, cdf = fg.cycle(h)
	}
	switch fg.spec.Kind {
	case Normal:
		v.num = fg.finish(loc + fg.spread*fg.normal())
	case LogNormal:
		v.num = fg.finish(math.Exp(loc + fg.spread*fg.normal()))
	case Uniform:
		v.num = fg.finish(loc + fg.spread*(2*r.Float64()-1))
	case Poisson:
		k := poisson(r, fg.loc)
		if fg.spread != 1 {
			k = math.Max(0, math.Round(fg.loc+fg.spread*(k-fg.loc)))
		}
		v.num = fg.clamp(k)
	case Categorical:
		v.cat = pick(cdf, r.Float64())
	case Bool:
		if r.Float64() < p {
			v.num = 1
		}
	}
	return v
}

// normal draws the feature's standard normal value, correlated rho with
// the other feature's draw for the same record when it has one, and keeps
// it for the features correlated with this one.
func (fg *featGen) normal() float64 {
	z := fg.rng.NormFloat64()
	if fg.other != nil {
		z = fg.rho*fg.other.lastZ + math.Sqrt(1-fg.rho*fg.rho)*z
	}
	fg.lastZ = z
	return z
}

// cycle returns the location, P and category CDF of the current window
// moved by the feature's Daily cycle at hour of the day h (see
// Feature.Daily). The CDF is rebuilt in a buffer the feature reuses.
func (fg *featGen) cycle(h float64) (loc, p float64, cdf []float64) {
	d, angle := fg.spec.Daily, 2*math.Pi*h/24
	s := math.Sin(angle)
	loc, p, cdf = fg.loc+d*s*fg.unit, min(max(fg.p+d*s, 0), 1), fg.cdf
	if fg.spec.Kind == Categorical {
		k := len(fg.cdf)
		fg.cycled = fg.cycled[:0]
		prev, sum := 0.0, 0.0
		for i, c := range fg.cdf {
			w := (c - prev) * math.Exp(d*math.Sin(angle+2*math.Pi*float64(i)/float64(k)))
			prev = c
			sum += w
			fg.cycled = append(fg.cycled, sum)
		}
		for i := range fg.cycled {
			fg.cycled[i] /= sum
		}
		fg.cycled[k-1] = 1
		cdf = fg.cycled
	}
	return loc, p, cdf
}

// finish rounds a continuous value as it is written and clamps it.
func (fg *featGen) finish(x float64) float64 {
	if fg.spec.Integer {
		x = math.Floor(x)
	}
	return round(fg.clamp(x), fg.dec)
}

func (fg *featGen) clamp(x float64) float64 {
	if f := fg.spec; f.Kind != Uniform && f.Max > f.Min {
		x = min(max(x, f.Min), f.Max)
	}
	return x
}

// z standardizes a numeric value with the undrifted parameters.
func (fg *featGen) z(x float64) float64 {
	if fg.spec.Kind == LogNormal {
		x = math.Log(math.Max(x, 1e-12))
	}
	return min(max((x-fg.center)/fg.unit, -zLimit), zLimit)
}

// draw draws record i of a series spread over span from base in steps of
// step nanoseconds, with the parameters of the current window.
func (g *modelGen) draw(base time.Time, i int, step float64, span time.Duration) (record, error) {
	m := g.meta
	r := record{label: -1, lateLabel: -1, dec: featureDecimals}
	off := time.Duration((float64(i) + m.Float64()) * step)
	off = min(off-off%time.Millisecond, span-time.Millisecond)
	r.t = base.Add(off)
	putUUID(&r.id, m.Uint64(), m.Uint64())
	r.delay = m.Float64()
	r.female = m.Float64() < 0.5
	r.challenger = m.Float64() < challengerShare
	median := championLatencyMS
	if r.challenger {
		median = challengerLatency
	}
	r.latency = round(median*math.Exp(latencySigma*m.NormFloat64()), latencyDecimals)
	h := float64(r.t.UnixMilli()%(24*3_600_000)) / 3_600_000
	for i := range g.feats {
		g.vals[i] = g.feats[i].sample(h)
	}
	if err := g.predict(&r); err != nil {
		return r, err
	}
	if m := g.model; r.challenger && m.ChallengerShift != 0 && g.window >= m.ChallengerFrom {
		r.shift(m.ChallengerShift)
	}
	if m := g.model; r.female && m.FemaleShift != 0 && g.window >= m.FemaleShiftFrom {
		r.shift(m.FemaleShift)
	}
	if m := g.model; m.PredictionShift != 0 && g.window >= 0 && g.window >= m.PredictionShiftFrom {
		r.shift(m.PredictionShift)
	}
	if m := g.model; m.LabelShare > 0 && g.window >= 0 && r.scored {
		u, v := g.labels.Float64(), g.labels.Float64()
		if u < m.LabelShare {
			p := r.pred
			if m.FlipLabelsFrom > 0 && g.window >= m.FlipLabelsFrom && (m.FlipLabelsTo == 0 || g.window < m.FlipLabelsTo) {
				p = 1 - p
			}
			r.label = 0
			if v < p {
				r.label = 1
			}
			if d := m.LabelDelay; d[1] > 0 {
				r.lateLabel, r.label = r.label, -1
				r.labelDelay = d[0] + time.Duration(g.labels.Float64()*float64(d[1]-d[0]))
				r.labelDelay -= r.labelDelay % time.Millisecond
			}
		}
	}
	if m := g.model; m.ErrorShare > 0 && g.window >= m.ErrorFrom && (m.ErrorTo == 0 || g.window < m.ErrorTo) {
		u, c := g.errs.Float64(), g.errs.Float64()
		if u < m.ErrorShare {
			classes := m.ErrorClasses
			if len(classes) == 0 {
				classes = []string{"timeout"}
			}
			r.errClass = classes[min(int(c*float64(len(classes))), len(classes)-1)]
			r.label, r.lateLabel, r.scored = -1, -1, false
		}
	}
	return r, nil
}

// shadowOf returns the shadow's record of r, a good champion record, when
// the model's shadow scores it (Model.ShadowShare): r's id, time,
// features and label, the shadow's prediction, latency and a logging delay
// of up to 20 ms (in delay, milliseconds). It draws from the shadow stream
// for every good champion record, so the other streams do not depend on
// the shadow.
func (g *modelGen) shadowOf(r *record, kind badKind) (record, bool) {
	m := g.model
	if m.ShadowShare <= 0 || kind != good || r.challenger || r.isStr {
		return record{}, false
	}
	sh := g.shadow
	u, noise, lat, delay := sh.Float64(), sh.NormFloat64(), sh.NormFloat64(), sh.Float64()
	if u >= m.ShadowShare {
		return record{}, false
	}
	s := *r
	s.shadow = true
	s.latency = round(shadowLatency*math.Exp(latencySigma*lat), latencyDecimals)
	s.delay = 20 * delay
	d := m.ShadowNoise * noise
	if g.window >= m.ShadowFrom {
		d += m.ShadowShift
	}
	if d != 0 {
		s.shift(d)
	}
	return s, true
}

// appendLabel appends r's late label, timestamped at, as a labels-topic
// record.
func (g *modelGen) appendLabel(b []byte, r *record, at time.Time) []byte {
	b = append(b, `{"prediction_id":"`...)
	b = append(b, r.id[:]...)
	b = append(b, `","model":`...)
	b = strconv.AppendQuote(b, g.model.Name)
	b = append(b, `,"timestamp":"`...)
	b = appendTimestamp(b, at)
	b = append(b, `","label":`...)
	b = appendFixed(b, float64(r.lateLabel), 0)
	return append(b, '}')
}

// shift moves a numeric prediction: a score in (0, 1) by d on the logit
// scale, any other number by adding d.
func (r *record) shift(d float64) {
	if r.isStr {
		return
	}
	if r.pred > 0 && r.pred < 1 {
		r.pred = 1 / (1 + math.Exp(-(math.Log(r.pred/(1-r.pred)) + d)))
	} else {
		r.pred += d
	}
	r.comp = 1 - r.pred
	if r.dec >= 0 {
		r.pred, r.comp = round(r.pred, r.dec), round(r.comp, r.dec)
	}
}

// predict sets r's prediction from the drawn features.
func (g *modelGen) predict(r *record) error {
	if g.model.Predict == nil {
		s := g.intercept
		for i := range g.feats {
			if fg := &g.feats[i]; fg.coef != 0 && !g.vals[i].null {
				s += fg.coef * fg.z(g.vals[i].num)
			}
		}
		r.pred = round(1/(1+math.Exp(-s)), featureDecimals)
		r.comp = round(1-r.pred, featureDecimals)
		r.scored = g.classes[0] != nil
		return nil
	}
	for i := range g.feats {
		fg, v := &g.feats[i], g.vals[i]
		var x any
		switch {
		case v.null:
		case fg.spec.Kind == Categorical:
			x = fg.spec.Categories[v.cat]
		case fg.spec.Kind == Bool:
			x = v.num == 1
		default:
			x = v.num
		}
		g.inputs[fg.spec.Name] = x
	}
	out := g.model.Predict(g.inputs)
	r.dec = -1
	switch p := out.(type) {
	case float64:
		r.pred = p
	case float32:
		r.pred = float64(p)
	case int:
		r.pred = float64(p)
	case int32:
		r.pred = float64(p)
	case int64:
		r.pred = float64(p)
	case uint:
		r.pred = float64(p)
	case uint32:
		r.pred = float64(p)
	case uint64:
		r.pred = float64(p)
	case string:
		r.predStr, r.isStr = p, true
		return nil
	default:
		return fmt.Errorf("predict returned %T: want a number or a string", out)
	}
	if !finite(r.pred) {
		return fmt.Errorf("predict returned %g: want a finite number", r.pred)
	}
	r.comp = 1 - r.pred
	r.scored = g.classes[0] != nil && r.pred >= 0 && r.pred <= 1
	return nil
}

// appendRecord appends r as a contract record, or broken as kind says.
func (g *modelGen) appendRecord(b []byte, r *record, kind badKind) []byte {
	start := len(b)
	b = append(b, `{"prediction_id":"`...)
	b = append(b, r.id[:]...)
	b = append(b, '"')
	b = append(b, g.ids...)
	switch kind {
	case badNoTimestamp:
	case badTimestamp:
		b = append(b, `,"timestamp":"`...)
		b = r.t.AppendFormat(b, badTimestampLayout)
		b = append(b, '"')
	default:
		b = append(b, `,"timestamp":"`...)
		b = appendTimestamp(b, r.t)
		b = append(b, '"')
	}
	if kind == badFeatures {
		b = append(b, `,"features":[`...)
		for i := range g.feats {
			if i > 0 {
				b = append(b, ',')
			}
			b = g.appendValue(b, i)
		}
		b = append(b, ']')
	} else {
		b = append(b, `,"features":{`...)
		first := true
		for i := range g.feats {
			if g.vals[i].absent {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			if g.vals[i].renamed {
				b = append(b, g.feats[i].newKey...)
			} else {
				b = append(b, g.feats[i].key...)
			}
			b = g.appendValue(b, i)
		}
		b = append(b, '}')
	}
	b = append(b, `,"prediction":`...)
	if r.errClass != "" && kind != badPrediction {
		b = append(b, "null"...)
	} else if kind == badPrediction {
		b = append(b, `{"value":`...)
		b = appendPrediction(b, r)
		b = append(b, '}')
	} else {
		b = appendPrediction(b, r)
	}
	if r.scored {
		b = append(b, `,"scores":{`...)
		b = append(b, g.classes[0]...)
		b = appendNumber(b, r.pred, r.dec)
		b = append(b, ',')
		b = append(b, g.classes[1]...)
		b = appendNumber(b, r.comp, r.dec)
		b = append(b, '}')
	}
	switch r.label {
	case -1:
		b = append(b, `,"label":null`...)
	default:
		b = append(b, `,"label":`...)
		b = appendFixed(b, float64(r.label), 0)
	}
	b = append(b, `,"segments":{"gender":`...)
	if r.female {
		b = append(b, `"f"`...)
	} else {
		b = append(b, `"m"`...)
	}
	if g.ageIdx >= 0 {
		b = append(b, `,"age_band":"`...)
		b = append(b, ageBand(g.vals[g.ageIdx])...)
		b = append(b, '"')
	}
	b = append(b, `},"variant":`...)
	switch {
	case r.shadow:
		b = append(b, `"shadow"`...)
	case r.challenger:
		b = append(b, `"challenger"`...)
	default:
		b = append(b, `"champion"`...)
	}
	b = append(b, `,"latency_ms":`...)
	b = appendFixed(b, r.latency, latencyDecimals)
	if r.errClass != "" {
		b = append(b, `,"error":`...)
		b = jsontext.AppendString(b, r.errClass)
	}
	b = append(b, '}')
	if kind == badNotJSON {
		b = b[:start+(len(b)-start)/2] // a torn write
	}
	return b
}

func (g *modelGen) appendValue(b []byte, i int) []byte {
	fg, v := &g.feats[i], g.vals[i]
	switch {
	case v.null:
		return append(b, "null"...)
	case v.wrongType:
		return append(b, `"n/a"`...)
	case v.unseen:
		return append(b, `"`+UnseenCategory+`"`...)
	case fg.spec.Kind == Categorical:
		return append(b, fg.cats[v.cat]...)
	case fg.spec.Kind == Bool && v.num == 1:
		return append(b, "true"...)
	case fg.spec.Kind == Bool:
		return append(b, "false"...)
	default:
		return appendFixed(b, v.num, fg.dec)
	}
}

func appendPrediction(b []byte, r *record) []byte {
	if r.isStr {
		return jsontext.AppendString(b, r.predStr)
	}
	return appendNumber(b, r.pred, r.dec)
}

// appendNumber appends x with dec decimals, or in its shortest exact form
// when dec < 0.
func appendNumber(b []byte, x float64, dec int) []byte {
	if dec < 0 {
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	}
	return appendFixed(b, x, dec)
}

// ageBand returns the segment "age_band" of an age value.
func ageBand(v value) string {
	switch {
	case v.null:
		return "unknown"
	case v.num < 18:
		return "<18"
	case v.num < 30:
		return "18-29"
	case v.num < 40:
		return "30-39"
	case v.num < 50:
		return "40-49"
	case v.num < 60:
		return "50-59"
	case v.num < 70:
		return "60-69"
	default:
		return "70+"
	}
}

// Files generates the stream as the two JSON-lines files a file replay
// reads: the predictions (bad records included) and the late labels, one
// message a line, in generation order.
func (c Config) Files() (predictions, labels []byte, err error) {
	var p, l bytes.Buffer
	err = c.Generate(func(m Message) error {
		to := &p
		if m.Label {
			to = &l
		}
		to.Write(m.Value)
		return to.WriteByte('\n')
	})
	return p.Bytes(), l.Bytes(), err
}
