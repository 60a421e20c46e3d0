package consumer

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// Batch is a set of decoded records of one model as an Arrow record batch
// whose schema comes from the model's baseline (see Schema).
//
// The receiver owns Rec and calls Rec.Release() exactly once. It calls Ack
// exactly once: with nil once everything derived from the batch is durable
// downstream (only then may the source commit the offsets it covers), or with
// the error that prevented it. Ack is safe to call from any goroutine.
type Batch struct {
	Model string
	// Partition is the source partition every record of the batch was read
	// from (0 for a file).
	Partition int32
	Baseline  *baselines.Baseline
	Rec       arrow.RecordBatch
	// Watermark is the source's event-time progress: every partition read so
	// far has delivered records up to at least this time.
	Watermark time.Time
	Ack       func(error)
	// Reset, in a batch without records, says the source lost its
	// partitions: the receiver drops every open window (their records will
	// be read again) and forgets what it knew of closed ones only as far as
	// the sink has them.
	Reset bool
	// Generation, on a Reset batch, is the source's generation from now on
	// (KafkaConfig.Fence): what was made of earlier batches is stale.
	Generation int64
	// Issues are the batch's feature values that are null in Rec for a
	// reason other than an explicit null, in row order (see Issue).
	Issues []Issue
	// Labels, in a batch without Rec, are late labels read from the
	// labels topic, in the order read. The receiver acknowledges them like
	// records: Ack once whatever they changed downstream is durable.
	Labels []Label
	// Partials, in a batch without Rec, are window deltas (windows.Delta,
	// encoded) that scale-out's fold stage wrote to its partials topic, in
	// the order read; non-nil, even empty, marks a batch of the merge
	// stage, whose Watermark is every source partition's. The receiver
	// acknowledges them like records.
	Partials [][]byte
}

// IssueKind says why a feature value is null in a batch although the
// record did not send null.
type IssueKind uint8

const (
	// Absent: the record's "features" has no such key.
	Absent IssueKind = iota + 1
	// WrongType: the value's JSON type does not fit the feature's kind in
	// the baseline (a string for a numeric feature).
	WrongType
)

// Issue is one feature value of one row that the batch stores as null
// because it was absent or of the wrong type. Feature indexes the
// baseline's features; -1 is the prediction.
type Issue struct {
	Row     int32
	Feature int32
	Kind    IssueKind
}

// Column positions of the fixed columns of every model's schema. Feature i of
// the baseline is column FirstFeatureCol+i.
const (
	ColPredictionID = iota
	ColModelVersion
	ColTimestamp
	ColPrediction
	ColLatency  // latency_ms, float64, null when absent
	ColVariant  // variant, dictionary-encoded, null when absent
	ColLabel    // label as text (Value.Text), dictionary-encoded, null when absent
	ColSegments // segments, dictionary-encoded as SegmentsText, null when none
	ColError    // error, a failed prediction's error class, dictionary-encoded, null for a served one
	ColUnknown  // the names of the record's features the baseline does not know, dictionary-encoded as UnknownText, null when none
	FirstFeatureCol
)

var dictString = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// Schema returns the Arrow schema of a model's batches: prediction_id,
// model_version (dictionary), timestamp (ms, UTC), prediction, latency_ms,
// variant, label, segments, error and unknown_features (null when the
// record has none), then one column per baseline feature named
// "feature.<name>": float64 for numeric features, dictionary-encoded
// strings for categorical ones. Missing values are nulls. The schema
// metadata carries the model and baseline id.
func Schema(b *baselines.Baseline) *arrow.Schema {
	fields := make([]arrow.Field, 0, FirstFeatureCol+len(b.Features))
	fields = append(fields,
		arrow.Field{Name: "prediction_id", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "model_version", Type: dictString},
		arrow.Field{Name: "timestamp", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		arrow.Field{Name: "prediction", Type: columnType(b.Prediction.Kind), Nullable: true},
		arrow.Field{Name: "latency_ms", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: "variant", Type: dictString, Nullable: true},
		arrow.Field{Name: "label", Type: dictString, Nullable: true},
		arrow.Field{Name: "segments", Type: dictString, Nullable: true},
		arrow.Field{Name: "error", Type: dictString, Nullable: true},
		arrow.Field{Name: "unknown_features", Type: dictString, Nullable: true},
	)
	for _, f := range b.Features {
		fields = append(fields, arrow.Field{Name: "feature." + f.Name, Type: columnType(f.Kind), Nullable: true})
	}
	md := arrow.NewMetadata([]string{"model", "baseline_id"}, []string{b.Model, b.ID})
	return arrow.NewSchema(fields, &md)
}

func columnType(k baselines.Kind) arrow.DataType {
	if k == baselines.Numeric {
		return arrow.PrimitiveTypes.Float64
	}
	return dictString
}

// BatchBuilder appends decoded records of one model to Arrow columns. It is
// not safe for concurrent use. Call Release when done with it.
type BatchBuilder struct {
	base   *baselines.Baseline
	schema *arrow.Schema
	// The columns, as Schema lays them out.
	ids                        strCol
	versions                   dictCol
	times                      []int64 // unix ms
	pred                       column
	latency                    f64Col
	variants, labels, segments dictCol
	errors, unknown            dictCol
	features                   []column
	// TypeErrors counts values whose JSON type did not fit the baseline's
	// feature kind (a string for a numeric feature); they are stored as nulls.
	TypeErrors int64
	issues     []Issue
	segBuf     []byte   // scratch: a record's SegmentsText
	segKeys    []string // scratch: its attributes, sorted
	unkBuf     []byte   // scratch: a Record's UnknownText
	unkNames   []string // scratch: its names
	segs       []scannedSegment
	scratch    []byte           // scratch: a value's text
	layouts    []*layout        // the records' feature layouts, newest last
	names      map[string]int32 // the baseline's feature indexes by name
	last       *layout          // the layout of the last record appended
	model      string           // the model whose records a decoder appends
	task       int              // its index among the builders a decoder's task uses, or -1
}

// segmentSep separates a record's segments in SegmentsText.
const segmentSep = '\x1f'

// appendSegments appends the segments' SegmentsText to b: "attr=value"
// pairs in attribute order, separated by U+001F, so that records of the
// same segments share one dictionary entry. keys is scratch space; both
// grown slices are returned for reuse.
func appendSegments(b []byte, keys []string, segs map[string]string) ([]byte, []string) {
	for k := range segs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, segmentSep)
		}
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, segs[k]...)
	}
	return b, keys
}

// EachSegment calls f with each attribute and value of a SegmentsText (the
// segments column's values).
func EachSegment(text string, f func(attr, value string)) {
	for len(text) > 0 {
		pair := text
		if i := strings.IndexByte(text, segmentSep); i >= 0 {
			pair, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if k, v, ok := strings.Cut(pair, "="); ok {
			f(k, v)
		}
	}
}

// UnknownText is how the unknown_features column holds a record's
// feature names that its baseline does not know: each name once, in
// increasing byte order, each preceded by its length as a uvarint (so
// that a name may hold any byte). EachUnknown reads it.

// appendUnknownText appends the UnknownText of names, which it sorts and
// deduplicates in place.
func appendUnknownText(b []byte, names []string) []byte {
	slices.Sort(names)
	for i, n := range names {
		if i > 0 && n == names[i-1] {
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(n)))
		b = append(b, n...)
	}
	return b
}

// EachUnknown calls f with each name of an UnknownText (the
// unknown_features column's values), in order. A malformed text ends
// the names.
func EachUnknown(text string, f func(name string)) {
	for len(text) > 0 {
		var n uint64
		k := 0
		for shift := 0; ; shift += 7 {
			if k == len(text) || shift > 56 {
				return
			}
			c := text[k]
			k++
			n |= uint64(c&0x7f) << shift
			if c < 0x80 {
				break
			}
		}
		if n > uint64(len(text)-k) {
			return
		}
		f(text[k : k+int(n)])
		text = text[k+int(n):]
	}
}

// NewBatchBuilder returns a builder for the model of b.
func NewBatchBuilder(b *baselines.Baseline) *BatchBuilder {
	bb := &BatchBuilder{base: b, schema: Schema(b), pred: column{numeric: b.Prediction.Kind == baselines.Numeric}, task: -1}
	bb.features = make([]column, len(b.Features))
	for i, f := range b.Features {
		bb.features[i].numeric = f.Kind == baselines.Numeric
	}
	return bb
}

// Len is the number of records appended since the last NewRecordBatch.
func (bb *BatchBuilder) Len() int { return len(bb.times) }

// Append adds one record. Features the baseline does not know are kept
// by name only (unknown_features); baseline features absent from the
// record are null.
func (bb *BatchBuilder) Append(r *Record) {
	row := int32(bb.Len())
	bb.ids.add([]byte(r.PredictionID))
	bb.versions.add([]byte(r.ModelVersion))
	bb.times = append(bb.times, r.Timestamp.UnixMilli())
	bb.appendValue(&bb.pred, r.Prediction, row, -1)
	if math.IsNaN(r.LatencyMS) {
		bb.latency.addNull()
	} else {
		bb.latency.add(r.LatencyMS)
	}
	if r.Variant == "" {
		bb.variants.addNull()
	} else {
		bb.variants.add([]byte(r.Variant))
	}
	if r.Label.Kind == Null {
		bb.labels.addNull()
	} else {
		bb.labels.add([]byte(r.Label.Text()))
	}
	if len(r.Segments) == 0 {
		bb.segments.addNull()
	} else {
		bb.segBuf, bb.segKeys = appendSegments(bb.segBuf[:0], bb.segKeys[:0], r.Segments)
		bb.segments.add(bb.segBuf)
	}
	if r.Error == "" {
		bb.errors.addNull()
	} else {
		bb.errors.add([]byte(r.Error))
	}
	bb.unkNames = bb.unkNames[:0]
	for name := range r.Features {
		if _, known := bb.featureNames()[name]; !known {
			bb.unkNames = append(bb.unkNames, name)
		}
	}
	if len(bb.unkNames) == 0 {
		bb.unknown.addNull()
	} else {
		bb.unkBuf = appendUnknownText(bb.unkBuf[:0], bb.unkNames)
		bb.unknown.add(bb.unkBuf)
	}
	for i := range bb.base.Features {
		v, ok := r.Features[bb.base.Features[i].Name]
		if !ok {
			bb.issues = append(bb.issues, Issue{Row: row, Feature: int32(i), Kind: Absent})
		}
		bb.appendValue(&bb.features[i], v, row, int32(i))
	}
}

func (bb *BatchBuilder) appendValue(c *column, v Value, row, feature int32) {
	switch {
	case v.Kind == Null:
		c.addNull()
	case !c.numeric:
		c.cat.add([]byte(v.Text()))
	case v.Kind == Number:
		c.num.add(v.Num)
	default:
		bb.wrongType(c, row, feature)
	}
}

// wrongType stores a value whose JSON type does not fit a numeric column
// as a null, and notes it.
func (bb *BatchBuilder) wrongType(c *column, row, feature int32) {
	bb.TypeErrors++
	bb.issues = append(bb.issues, Issue{Row: row, Feature: feature, Kind: WrongType})
	c.addNull()
}

// NewRecordBatch returns the records appended so far as a record batch and
// resets the builder. The caller owns the batch and must Release it. Take
// the batch's Issues first.
func (bb *BatchBuilder) NewRecordBatch() arrow.RecordBatch {
	n := bb.Len()
	cols := make([]arrow.Array, 0, FirstFeatureCol+len(bb.features))
	cols = append(cols,
		bb.ids.array(nil, 0),
		bb.versions.array(),
		bb.timestamps(),
		bb.pred.array(),
		bb.latency.array(),
		bb.variants.array(),
		bb.labels.array(),
		bb.segments.array(),
		bb.errors.array(),
		bb.unknown.array(),
	)
	for i := range bb.features {
		cols = append(cols, bb.features[i].array())
	}
	rec := array.NewRecordBatch(bb.schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

func (bb *BatchBuilder) timestamps() arrow.Array {
	data := array.NewData(bb.schema.Field(ColTimestamp).Type, len(bb.times), []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(bb.times))}, nil, 0, 0)
	defer data.Release()
	bb.times = make([]int64, 0, cap(bb.times))
	return array.NewTimestampData(data)
}

// TakeIssues returns the issues of the rows appended since the last call,
// in row order, and forgets them.
func (bb *BatchBuilder) TakeIssues() []Issue {
	out := bb.issues
	bb.issues = nil
	return out
}

// Release frees the builder's buffers.
func (bb *BatchBuilder) Release() {}

// layout maps the feature keys of records that name them in the same
// order, byte for byte, to the baseline's features: producers send the same
// layout record after record, so names are looked up once per layout, not
// once per value.
type layout struct {
	keys []layoutKey
	// pos gives, per baseline feature, the index of its member in the
	// record's "features" (of a repeated key, the last), or -1.
	pos []int32
	// fast is what the fast path expects, per member (see fastKey).
	fast []fastKey
	// unknown is the UnknownText of the members the baseline does not
	// know; nil when there are none.
	unknown []byte
}

// fastKey is one member of a layout as the fast path expects it: its key
// with its quotes (`"amount"`), as words, and the column its value goes
// to (nil when the baseline has no such feature, or a later member of the
// same key gives its value).
type fastKey struct {
	head, tail uint64 // the first eight bytes (zero-padded) and, when longer, the last eight
	mid        uint64 // bytes 8 to 16, when there are more than 16
	n          int32  // the number of bytes
	pat        string // all of them
	col        *column
	feature    int32 // the column's feature index, or -1
}

// layoutKey is a raw key as compared: its length, its first eight bytes
// and, when longer, its last eight (little-endian words, zero-padded), and
// the bytes between.
type layoutKey struct {
	n          int32
	head, tail uint64
	mid        string
}

func newLayoutKey(k []byte) layoutKey {
	lk := layoutKey{n: int32(len(k))}
	var w [8]byte
	copy(w[:], k)
	lk.head = binary.LittleEndian.Uint64(w[:])
	if len(k) > 8 {
		lk.tail = binary.LittleEndian.Uint64(k[len(k)-8:])
	}
	if len(k) > 16 {
		lk.mid = string(k[8 : len(k)-8])
	}
	return lk
}

// is reports whether the key data[start:end] is lk.
func (lk *layoutKey) is(data []byte, start, end int32) bool {
	n := end - start
	if n != lk.n {
		return false
	}
	var head uint64
	if int(start)+8 <= len(data) {
		head = binary.LittleEndian.Uint64(data[start:])
		if n < 8 {
			head &= 1<<(8*n) - 1
		}
	} else {
		var w [8]byte
		copy(w[:], data[start:end])
		head = binary.LittleEndian.Uint64(w[:])
	}
	if head != lk.head {
		return false
	}
	if n <= 8 {
		return true
	}
	return binary.LittleEndian.Uint64(data[end-8:]) == lk.tail && (n <= 16 || string(data[start+8:end-8]) == lk.mid)
}

// maxLayouts bounds the layouts a builder remembers; past it the oldest
// is forgotten.
const maxLayouts = 8

// layoutOf returns the layout of the scanned record's features.
func (bb *BatchBuilder) layoutOf(s *scanner) *layout {
	for _, l := range bb.layouts {
		if l.matches(s) {
			bb.last = l
			return l
		}
	}
	names := bb.featureNames()
	var unknown []string
	l := &layout{keys: make([]layoutKey, len(s.features)), pos: make([]int32, len(bb.base.Features)), fast: make([]fastKey, len(s.features))}
	for i := range l.pos {
		l.pos[i] = -1
	}
	for j, m := range s.features {
		l.keys[j] = newLayoutKey(s.data[m.key.start:m.key.end])
		if i, ok := names[string(s.text(m.key))]; ok {
			l.pos[i] = int32(j)
		} else {
			unknown = append(unknown, string(s.text(m.key)))
		}
		pat := append(append([]byte{'"'}, s.data[m.key.start:m.key.end]...), '"')
		l.fast[j] = fastKey{n: int32(len(pat)), pat: string(pat), feature: -1}
		var w [8]byte
		copy(w[:], pat)
		l.fast[j].head = binary.LittleEndian.Uint64(w[:])
		if len(pat) > 8 {
			l.fast[j].tail = binary.LittleEndian.Uint64(pat[len(pat)-8:])
		}
		if len(pat) > 16 {
			l.fast[j].mid = binary.LittleEndian.Uint64(pat[8:])
		}
	}
	for i, j := range l.pos {
		if j >= 0 {
			l.fast[j].col, l.fast[j].feature = &bb.features[i], int32(i)
		}
	}
	if len(unknown) > 0 {
		l.unknown = appendUnknownText(nil, unknown)
	}
	bb.last = l
	if len(bb.layouts) == maxLayouts {
		copy(bb.layouts, bb.layouts[1:])
		bb.layouts = bb.layouts[:maxLayouts-1]
	}
	bb.layouts = append(bb.layouts, l)
	return l
}

// featureNames returns the baseline's feature indexes by name.
func (bb *BatchBuilder) featureNames() map[string]int32 {
	if bb.names == nil {
		bb.names = make(map[string]int32, len(bb.base.Features))
		for i, f := range bb.base.Features {
			bb.names[f.Name] = int32(i)
		}
	}
	return bb.names
}

// addUnknown appends the unknown_features value of a record of layout l.
func (bb *BatchBuilder) addUnknown(l *layout) {
	if l.unknown == nil {
		bb.unknown.addNull()
	} else {
		bb.unknown.add(l.unknown)
	}
}

func (l *layout) matches(s *scanner) bool {
	if len(l.keys) != len(s.features) {
		return false
	}
	data := s.data
	for j := range s.features {
		k, lk := &s.features[j].key, &l.keys[j]
		n := k.end - k.start
		if n != lk.n {
			return false
		}
		if int(k.start)+8 > len(data) || n > 16 {
			if !lk.is(data, k.start, k.end) {
				return false
			}
			continue
		}
		// lk.is inlined for keys of up to 16 bytes away from the end.
		head := binary.LittleEndian.Uint64(data[k.start:])
		if n < 8 {
			head &= 1<<(8*n) - 1
		}
		if head != lk.head || n > 8 && binary.LittleEndian.Uint64(data[k.end-8:]) != lk.tail {
			return false
		}
	}
	return true
}

// appendScanned adds the record the scanner has read and checked
// (checkRecord), as Append adds a decoded Record, without decoding it into
// one.
func (bb *BatchBuilder) appendScanned(s *scanner) {
	row := int32(bb.Len())
	bb.appendFixed(s, row)
	l := bb.layoutOf(s)
	bb.addUnknown(l)
	for i, j := range l.pos {
		c := &bb.features[i]
		if j < 0 {
			bb.issues = append(bb.issues, Issue{Row: row, Feature: int32(i), Kind: Absent})
			c.addNull()
			continue
		}
		bb.appendJSON(s, c, s.features[j].val, row, int32(i))
	}
}

// rollback forgets what the fast path appended to the feature columns
// for row n, and the categories it added to their dictionaries (newCats,
// in the order added).
func (bb *BatchBuilder) rollback(n int, newCats []int32) {
	for i := range bb.features {
		bb.features[i].truncate(n)
	}
	for k := len(newCats) - 1; k >= 0; k-- {
		bb.features[newCats[k]].cat.dropLast()
	}
}

// appendFixed appends the values of the columns that every schema has, of
// row.
func (bb *BatchBuilder) appendFixed(s *scanner, row int32) {
	f := &s.fields
	bb.ids.add(s.text(f[fPredictionID]))
	bb.versions.add(s.text(f[fModelVersion]))
	bb.times = append(bb.times, s.ts/int64(time.Millisecond))
	bb.appendJSON(s, &bb.pred, f[fPrediction], row, -1)
	if f[fLatency].present() {
		bb.latency.add(f[fLatency].num)
	} else {
		bb.latency.addNull()
	}
	if f[fVariant].present() {
		bb.variants.add(s.text(f[fVariant]))
	} else {
		bb.variants.addNull()
	}
	if f[fLabel].present() {
		bb.scratch = s.appendValueText(bb.scratch[:0], f[fLabel])
		bb.labels.add(bb.scratch)
	} else {
		bb.labels.addNull()
	}
	if bb.segBuf = bb.scannedSegments(s, bb.segBuf[:0]); len(bb.segBuf) > 0 {
		bb.segments.add(bb.segBuf)
	} else {
		bb.segments.addNull()
	}
	if f[fError].present() {
		bb.errors.add(s.text(f[fError]))
	} else {
		bb.errors.addNull()
	}
}

// appendJSON appends a checked scalar as appendValue appends its Value.
func (bb *BatchBuilder) appendJSON(s *scanner, c *column, v jval, row, feature int32) {
	switch {
	case c.numeric && v.typ == jsonNumber:
		c.num.add(v.num)
	case !v.present():
		c.addNull()
	case c.numeric:
		bb.wrongType(c, row, feature)
	case v.typ == jsonString:
		c.cat.add(s.text(v))
	default:
		bb.scratch = s.appendValueText(bb.scratch[:0], v)
		c.cat.add(bb.scratch)
	}
}

// scannedSegment is one member of a scanned record's "segments".
type scannedSegment struct {
	key []byte
	val jval
}

// scannedSegments appends the SegmentsText of the scanned record's
// segments to b, as appendSegments does for a Record's: of a repeated
// attribute the last value counts, and a null one removes it.
func (bb *BatchBuilder) scannedSegments(s *scanner, b []byte) []byte {
	if !s.fields[fSegments].present() || len(s.segments) == 0 {
		return b
	}
	segs := bb.segs[:0]
	for _, m := range s.segments {
		segs = append(segs, scannedSegment{s.text(m.key), m.val})
	}
	// Stable: of equal attributes, the last in the record comes last.
	slices.SortStableFunc(segs, func(x, y scannedSegment) int { return bytes.Compare(x.key, y.key) })
	for i, g := range segs {
		if i+1 < len(segs) && bytes.Equal(g.key, segs[i+1].key) || g.val.typ == jsonNull {
			continue
		}
		if len(b) > 0 {
			b = append(b, segmentSep)
		}
		b = append(b, g.key...)
		b = append(b, '=')
		b = s.appendValueText(b, g.val)
	}
	bb.segs = segs[:0]
	return b
}
