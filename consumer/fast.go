package consumer

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"
)

// The fast path. A producer sends record after record of one model and
// version with the same feature keys in the same order: the decoder reads
// such a record's features straight into the columns of the builder the
// previous record went to, expecting its keys where that record had them,
// with no list of members to look up afterwards. Anything else (another
// layout or model, spaces or escapes in the features, a value of a kind
// the contract rejects, a record that breaks the contract anywhere) undoes
// what the fast path appended and the record takes the general path (scan,
// checkRecord, appendScanned), which judges it. The two paths append the
// same values (FuzzAppendScannedMatchesAppend).

// errNotFast stops a scan on the fast path; it never leaves the decoder.
var errNotFast = &DecodeError{Code: "not_fast", Detail: "not of the fast path's form"}

// fastTarget is where the fast path appends a record's features: the
// route of the model and version the record names before its features
// (most producers name them first), else the route of the last good
// record, and what that route's builder held before.
type fastTarget struct {
	d       *decoder
	rt      *route
	l       *layout
	done    bool    // the features were read: a second "features" key is not fast
	newCats []int32 // the columns that got a category new to their dictionary
	// The builder's rows, issues and type errors before the record.
	row, issues int
	typeErrors  int64
}

// pick chooses the route of the record the scanner is reading, at its
// features; false when it has none with a layout to expect.
func (tgt *fastTarget) pick(s *scanner) bool {
	rt := tgt.d.last
	if m, v := s.fields[fModel], s.fields[fModelVersion]; m.typ == jsonString && v.typ == jsonString {
		rt = tgt.d.route(s.text(m), s.text(v))
	}
	if rt == nil || rt.bb == nil || rt.bb.last == nil {
		return false
	}
	bb := rt.bb
	tgt.rt, tgt.l = rt, bb.last
	tgt.row, tgt.issues, tgt.typeErrors = bb.Len(), len(bb.issues), bb.TypeErrors
	return true
}

// undo takes back what the fast path appended, if anything.
func (tgt *fastTarget) undo() {
	if tgt.rt == nil {
		return
	}
	bb := tgt.rt.bb
	bb.rollback(tgt.row, tgt.newCats)
	bb.issues, bb.TypeErrors = bb.issues[:tgt.issues], tgt.typeErrors
}

// fast decodes value on the fast path. ok is false when it did not,
// having appended nothing.
func (d *decoder) fast(t *task, value []byte) (o outcome, ok bool) {
	s := &d.sc
	d.target = fastTarget{d: d, newCats: d.target.newCats[:0]}
	tgt := &d.target
	s.fast = tgt
	defer func() {
		s.fast = nil
		if !ok {
			tgt.undo()
		}
	}()
	if s.scan(value, d.maxBytes, fieldOf) != nil || !tgt.done || s.checkRecord() != nil ||
		!bytes.Equal(s.text(s.fields[fModel]), tgt.rt.model) || !bytes.Equal(s.text(s.fields[fModelVersion]), tgt.rt.version) ||
		t.notAfter != 0 && s.ts > t.notAfter {
		return outcome{}, false
	}
	bb, row := tgt.rt.bb, tgt.row
	o = d.good(t, bb, s.text(s.fields[fPredictionID]))
	bb.appendFixed(s, int32(row))
	bb.addUnknown(tgt.l)
	for i, j := range tgt.l.pos {
		if j < 0 {
			bb.issues = append(bb.issues, Issue{Row: int32(row), Feature: int32(i), Kind: Absent})
			bb.features[i].addNull()
		}
	}
	// The general path notes a row's issues in schema order, the
	// prediction's first.
	if rowIssues := bb.issues[tgt.issues:]; len(rowIssues) > 1 {
		slices.SortStableFunc(rowIssues, func(a, b Issue) int { return int(a.Feature - b.Feature) })
	}
	d.last = tgt.rt
	return o, true
}

// fastFeatures reads the features object at data[i] into tgt's builder,
// expecting its layout's keys in order, compact. ok is false when the
// object is not of that form; what it appended stays for the caller to
// undo.
func (s *scanner) fastFeatures(i int, tgt *fastTarget) (int, bool) {
	if tgt.done || !tgt.pick(s) {
		return i, false
	}
	tgt.done = true
	data, bb := s.data, tgt.rt.bb
	row := int32(bb.Len())
	keys := tgt.l.fast
	i++ // the '{'
	for j := range keys {
		// The separator, the quoted key, the colon: compact, or with one
		// space after the separator and the colon, as Python's json.dumps
		// writes them (other spacing takes the general path).
		if j > 0 {
			if i+1 >= len(data) || data[i] != ',' {
				return i, false
			}
			i++
		} else if i >= len(data) {
			return i, false
		}
		if data[i] == ' ' {
			i++
		}
		k := &keys[j]
		n := int(k.n)
		if i+n+8 > len(data) || n > 24 {
			if i+n >= len(data) || string(data[i:i+n]) != k.pat {
				return i, false
			}
		} else {
			head := binary.LittleEndian.Uint64(data[i:])
			if n < 8 {
				head &= 1<<(8*n) - 1
			}
			if head != k.head || n > 8 && binary.LittleEndian.Uint64(data[i+n-8:]) != k.tail ||
				n > 16 && binary.LittleEndian.Uint64(data[i+8:]) != k.mid {
				return i, false
			}
		}
		i += n
		if i+1 >= len(data) || data[i] != ':' {
			return i, false
		}
		i++
		if data[i] == ' ' {
			i++
		}
		if i >= len(data) {
			return i, false
		}
		c := k.col
		switch b := data[i]; {
		case b-'0' < 10 || b == '-':
			x, next, ok := parseNumber(data, i)
			if !ok {
				return i, false
			}
			switch {
			case c == nil:
			case c.numeric:
				c.num.add(x)
			default:
				s.numText = strconv.AppendFloat(s.numText[:0], x, 'g', -1, 64) // as Value.Text
				tgt.cat(c, k.feature, s.numText)
			}
			i = next
		case b == '"':
			e := plainRun(data, i+1)
			if e >= len(data) || data[e] != '"' {
				return i, false // escapes, control characters or bytes past ASCII: the general path decodes them
			}
			switch {
			case c == nil:
			case c.numeric:
				bb.wrongType(c, row, k.feature)
			default:
				tgt.cat(c, k.feature, data[i+1:e])
			}
			i = e + 1
		case b == 't' || b == 'f' || b == 'n':
			v, next, err := s.value(i, nil, 0)
			if err != nil {
				return i, false
			}
			switch {
			case c == nil:
			case v.typ == jsonNull:
				c.addNull()
			case c.numeric:
				bb.wrongType(c, row, k.feature)
			default:
				s.numText = s.appendValueText(s.numText[:0], v)
				tgt.cat(c, k.feature, s.numText)
			}
			i = next
		default:
			return i, false // an object or an array: wrong_type, for the general path to say
		}
	}
	if i >= len(data) || data[i] != '}' {
		return i, false
	}
	return i + 1, true
}

// cat appends a category to feature col's column, noting the column if
// the value is new to its dictionary.
func (tgt *fastTarget) cat(c *column, col int32, v []byte) {
	if c.cat.add(v) {
		tgt.newCats = append(tgt.newCats, col)
	}
}
