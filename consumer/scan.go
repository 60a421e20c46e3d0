package consumer

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The scanner reads a record of the contract in one pass over its bytes: it
// checks that the record is one strict JSON object and notes where the
// values of the fields it knows are, parsing numbers as it meets them and
// listing the members of "features", "scores" and "segments". It allocates
// nothing once its scratch space has grown to the records' size: what it
// found points into the record, and strings are decoded (escapes, invalid
// UTF-8) only when they are read, and then into scratch space.

// The top-level fields of prediction and label records, as indexes of
// scanner.fields.
const (
	fPredictionID = iota
	fModel
	fModelVersion
	fTimestamp
	fFeatures
	fPrediction
	fScores
	fLabel
	fSegments
	fVariant
	fLatency
	fError
	numFields
)

// fieldOf returns the field of a prediction log record's key
// (CONTRACT.md section 1), or -1 for a key the contract ignores.
func fieldOf(key []byte) int {
	switch string(key) {
	case "prediction_id":
		return fPredictionID
	case "model":
		return fModel
	case "model_version":
		return fModelVersion
	case "timestamp":
		return fTimestamp
	case "features":
		return fFeatures
	case "prediction":
		return fPrediction
	case "scores":
		return fScores
	case "label":
		return fLabel
	case "segments":
		return fSegments
	case "variant":
		return fVariant
	case "latency_ms":
		return fLatency
	case "error":
		return fError
	}
	return -1
}

// labelFieldOf is fieldOf for a late label (CONTRACT.md section 2).
func labelFieldOf(key []byte) int {
	switch string(key) {
	case "prediction_id":
		return fPredictionID
	case "model":
		return fModel
	case "timestamp":
		return fTimestamp
	case "label":
		return fLabel
	}
	return -1
}

// jsonType is the type of a scanned JSON value; absent is a field the
// record does not have.
type jsonType uint8

const (
	absent jsonType = iota
	jsonNull
	jsonFalse
	jsonTrue
	jsonNumber
	jsonString
	jsonObject
	jsonArray
)

// jval is one scanned value. A string's bytes are data[start:end], between
// its quotes; esc says it has escape sequences and hi that it has bytes of
// 0x80 or more (which may be invalid UTF-8). A number's text is
// data[start:end] and num its value; numOK is false when it does not fit a
// float64.
type jval struct {
	typ        jsonType
	esc, hi    bool
	numOK      bool
	start, end int32
	num        float64
}

// member is one member of an object whose members the scanner lists.
type member struct {
	key, val jval
}

// maxDepth bounds how deeply values nest, as encoding/json bounds them.
const maxDepth = 10000

// scanner is reused from record to record; it is not safe for concurrent
// use.
type scanner struct {
	data   []byte
	fields [numFields]jval
	// The members of the last "features", "scores" and "segments" objects
	// (of a repeated key, the last counts), in document order.
	features, scores, segments []member
	stack                      []byte // closing brackets of the containers being skipped
	arena                      []byte // decoded strings of the current record
	ts                         int64  // the timestamp, unix nanoseconds, once check has read it
	// fast, when set, takes the features (see fastFeatures).
	fast    *fastTarget
	numText []byte // scratch: a number's text
}

// scan reads data, which must be at most maxBytes long (0 meaning
// DefaultMaxRecordBytes) and one strict JSON object with nothing but
// whitespace around it, noting the values of the keys fields knows
// (fieldOf or labelFieldOf). It checks no field: see checkRecord and
// checkLabel.
func (s *scanner) scan(data []byte, maxBytes int, fields func(key []byte) int) *DecodeError {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRecordBytes
	}
	if len(data) > maxBytes {
		return reject(ReasonTooBig, "record is %d bytes, limit %d", len(data), maxBytes)
	}
	s.data = data
	s.fields = [numFields]jval{}
	s.features, s.scores, s.segments = s.features[:0], s.scores[:0], s.segments[:0]
	s.arena = s.arena[:0]
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return reject(ReasonNotJSON, "not a JSON object")
	}
	i, err := s.object(i, fields)
	if err != nil {
		return err
	}
	if i = skipSpace(data, i); i != len(data) {
		return s.syntax(i, "data after the object")
	}
	return nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// syntax rejects the record as not JSON, at byte i.
func (s *scanner) syntax(i int, what string) *DecodeError {
	if i >= len(s.data) {
		return reject(ReasonNotJSON, "unexpected end of the record at byte %d", i)
	}
	if c := s.data[i]; c < 0x20 || c >= 0x7f {
		return reject(ReasonNotJSON, "%s at byte %d (0x%02X)", what, i, c)
	}
	return reject(ReasonNotJSON, "%s at byte %d (%q)", what, i, s.data[i])
}

// object reads the record's top-level object, data[i] being its '{'.
func (s *scanner) object(i int, fields func(key []byte) int) (int, *DecodeError) {
	data := s.data
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return i, s.syntax(i, "want a key")
		}
		key, j, err := s.str(i)
		if err != nil {
			return j, err
		}
		if i, err = s.colonSpaced(j); err != nil {
			return i, err
		}
		f := fields(s.keyText(key))
		var v jval
		switch f {
		case fFeatures:
			if s.fast != nil {
				var ok bool
				if i >= len(data) || data[i] != '{' {
					return i, errNotFast
				}
				if i, ok = s.fastFeatures(i, s.fast); !ok {
					return i, errNotFast
				}
				v = jval{typ: jsonObject}
				break
			}
			v, i, err = s.value(i, &s.features, 1)
		case fScores:
			v, i, err = s.value(i, &s.scores, 1)
		case fSegments:
			v, i, err = s.value(i, &s.segments, 1)
		default:
			v, i, err = s.value(i, nil, 1)
		}
		if err != nil {
			return i, err
		}
		if f >= 0 {
			s.fields[f] = v
		}
		var closed bool
		if i, closed, err = s.nextSpaced(i, '}'); err != nil || closed {
			return i, err
		}
	}
}

// colonSpaced skips the ':' after a key at data[i] (after spaces) and the spaces
// after it.
func (s *scanner) colonSpaced(i int) (int, *DecodeError) {
	i = skipSpace(s.data, i)
	if i >= len(s.data) || s.data[i] != ':' {
		return i, s.syntax(i, "want ':'")
	}
	return skipSpace(s.data, i+1), nil
}

// nextSpaced reads what follows a member or element at data[i] (after spaces):
// a ',' and the spaces after it, or the closing bracket (closed).
func (s *scanner) nextSpaced(i int, closing byte) (j int, closed bool, err *DecodeError) {
	i = skipSpace(s.data, i)
	if i < len(s.data) {
		switch s.data[i] {
		case ',':
			return skipSpace(s.data, i+1), false, nil
		case closing:
			return i + 1, true, nil
		}
	}
	return i, false, s.syntax(i, "want ',' or '"+string(closing)+"'")
}

// value reads the value at data[i], inside depth containers. If it is an
// object and members is not nil, its members are listed in *members (reset
// first); other objects and arrays are skipped.
func (s *scanner) value(i int, members *[]member, depth int) (jval, int, *DecodeError) {
	data := s.data
	if i >= len(data) {
		return jval{}, i, s.syntax(i, "want a value")
	}
	switch c := data[i]; c {
	case '"':
		return s.str(i)
	case '{':
		if members != nil {
			*members = (*members)[:0]
			j, err := s.members(i, members, depth+1)
			return jval{typ: jsonObject}, j, err
		}
		j, err := s.skip(i, depth)
		return jval{typ: jsonObject}, j, err
	case '[':
		j, err := s.skip(i, depth)
		return jval{typ: jsonArray}, j, err
	case 't':
		return s.literal(i, "true", jsonTrue)
	case 'f':
		return s.literal(i, "false", jsonFalse)
	case 'n':
		return s.literal(i, "null", jsonNull)
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return s.number(i)
		}
		return jval{}, i, s.syntax(i, "want a value")
	}
}

func (s *scanner) literal(i int, lit string, t jsonType) (jval, int, *DecodeError) {
	if len(s.data)-i < len(lit) || string(s.data[i:i+len(lit)]) != lit {
		return jval{}, i, s.syntax(i, "want "+lit)
	}
	return jval{typ: t}, i + len(lit), nil
}

// members lists the members of the object at data[i] in *out; the object
// is at the given depth.
func (s *scanner) members(i int, out *[]member, depth int) (int, *DecodeError) {
	data := s.data
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	ms := *out
	defer func() { *out = ms }()
	for {
		if i >= len(data) || data[i] != '"' {
			return i, s.syntax(i, "want a key")
		}
		// The compact forms are inlined by hand: this loop reads most of
		// a record.
		var key jval
		var err *DecodeError
		j := i + 1
		if j+8 <= len(data) {
			// plainRun's first word, inlined: most keys end in it.
			if stop := plainStop(binary.LittleEndian.Uint64(data[j:])); stop != 0 {
				j += bits.TrailingZeros64(stop) / 8
			} else {
				j = plainRun(data, j+8)
			}
		} else {
			j = plainRun(data, j)
		}
		if j < len(data) && data[j] == '"' {
			key, i = jval{typ: jsonString, start: int32(i + 1), end: int32(j)}, j+1
		} else if key, i, err = s.strEscaped(i); err != nil {
			return i, err
		}
		if i+1 < len(data) && data[i] == ':' && data[i+1] > ' ' {
			i++
		} else if i, err = s.colonSpaced(i); err != nil {
			return i, err
		}
		var v jval
		switch {
		case i >= len(data):
			return i, s.syntax(i, "want a value")
		case data[i] == '"':
			v, i, err = s.str(i)
		case data[i]-'0' < 10 || data[i] == '-':
			v, i, err = s.number(i)
		default:
			v, i, err = s.value(i, nil, depth)
		}
		if err != nil {
			return i, err
		}
		ms = append(ms, member{key, v})
		if i+1 < len(data) && data[i] == ',' && data[i+1] == '"' {
			i++
			continue
		}
		var closed bool
		if i, closed, err = s.nextSpaced(i, '}'); err != nil || closed {
			return i, err
		}
	}
}

// skip reads the object or array at data[i], inside depth containers,
// without keeping anything.
func (s *scanner) skip(i int, depth int) (int, *DecodeError) {
	data := s.data
	stack := s.stack[:0]
	defer func() { s.stack = stack[:0] }()
	for {
		// At a value.
		var err *DecodeError
		switch {
		case i >= len(data):
			return i, s.syntax(i, "want a value")
		case data[i] == '{' || data[i] == '[':
			if depth+len(stack) >= maxDepth {
				return i, reject(ReasonNotJSON, "values nest deeper than %d at byte %d", maxDepth, i)
			}
			closing := data[i] + 2 // '{'+2 == '}', '['+2 == ']'
			stack = append(stack, closing)
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == closing {
				i++
				stack = stack[:len(stack)-1]
				break
			}
			if closing == '}' {
				if i, err = s.skipKey(i); err != nil {
					return i, err
				}
			}
			continue
		default:
			if _, i, err = s.value(i, nil, 0); err != nil { // a scalar
				return i, err
			}
		}
		// After a value: close containers until one has a next element.
		for {
			if len(stack) == 0 {
				return i, nil
			}
			closing := stack[len(stack)-1]
			var closed bool
			if i, closed, err = s.nextSpaced(i, closing); err != nil {
				return i, err
			}
			if !closed {
				if closing == '}' {
					if i, err = s.skipKey(i); err != nil {
						return i, err
					}
				}
				break
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// skipKey reads a member's key and its ':' at data[i].
func (s *scanner) skipKey(i int) (int, *DecodeError) {
	if i >= len(s.data) || s.data[i] != '"' {
		return i, s.syntax(i, "want a key")
	}
	_, j, err := s.str(i)
	if err != nil {
		return j, err
	}
	return s.colonSpaced(j)
}

// str reads the string at data[i] (its opening quote).
func (s *scanner) str(i int) (jval, int, *DecodeError) {
	if j := plainRun(s.data, i+1); j < len(s.data) && s.data[j] == '"' {
		return jval{typ: jsonString, start: int32(i + 1), end: int32(j)}, j + 1, nil
	}
	return s.strEscaped(i)
}

// strEscaped reads a string that has escapes, control characters or bytes
// of 0x80 or more.
func (s *scanner) strEscaped(i int) (jval, int, *DecodeError) {
	data := s.data
	v := jval{typ: jsonString, start: int32(i + 1)}
	j := i + 1
	for {
		j = plainRun(data, j)
		if j >= len(data) {
			return jval{}, j, s.syntax(j, "unterminated string")
		}
		switch c := data[j]; {
		case c == '"':
			v.end = int32(j)
			return v, j + 1, nil
		case c == '\\':
			v.esc = true
			if j+1 >= len(data) {
				return jval{}, j + 1, s.syntax(j+1, "unterminated string")
			}
			switch data[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if len(data)-j < 6 || hex4(data[j+2:j+6]) < 0 {
					return jval{}, j, s.syntax(j, `want four hex digits after \u`)
				}
				j += 6
			default:
				return jval{}, j, s.syntax(j+1, "invalid escape")
			}
		case c < 0x20:
			return jval{}, j, reject(ReasonNotJSON, "control character 0x%02X in a string at byte %d", c, j)
		default:
			v.hi = true
			j++
		}
	}
}

// plainRun returns the position of the first byte from data[j] on that
// ends a plain run of a string: a quote, a backslash, a control character
// or a byte of 0x80 or more; len(data) if there is none. It looks at eight
// bytes at a time.
func plainRun(data []byte, j int) int {
	for ; j+8 <= len(data); j += 8 {
		if stop := plainStop(binary.LittleEndian.Uint64(data[j:])); stop != 0 {
			return j + bits.TrailingZeros64(stop)/8
		}
	}
	for ; j < len(data); j++ {
		if c := data[j]; c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			return j
		}
	}
	return j
}

// plainStop returns the high bit of each byte of x (eight bytes of a
// string, the first lowest) that is a quote, a backslash, below 0x20 or of
// 0x80 or more. Borrows can set bits above the first such byte only, so
// the lowest bit set is right.
func plainStop(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ ('"' * ones)
	b := x ^ ('\\' * ones)
	return (((q - ones) & ^q) | ((b - ones) & ^b) | (x - 0x20*ones) | x) & highs
}

// hex4 returns the value of four hex digits, or -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// number reads the number at data[i] (parseNumber); one that does not fit
// a float64 is a number all the same, with numOK false.
func (s *scanner) number(i int) (jval, int, *DecodeError) {
	if x, end, ok := parseNumber(s.data, i); ok {
		return jval{typ: jsonNumber, start: int32(i), end: int32(end), numOK: true, num: x}, end, nil
	}
	end, want := numberEnd(s.data, i)
	if want != "" {
		return jval{}, end, s.syntax(end, want)
	}
	return jval{typ: jsonNumber, start: int32(i), end: int32(end)}, end, nil
}

// parseNumber reads the number at data[i]; ok is false for a number that
// breaks JSON's grammar or does not fit a float64. A number of at most 19
// digits without an exponent whose digits, as an integer, fit 53 bits and
// that has at most 22 of them after the point is the exact quotient of two
// exactly represented floats, so one correctly rounded division gives
// strconv's result (Clinger's fast path); others go to
// strconv.ParseFloat, which rounds as encoding/json does.
func parseNumber(data []byte, i int) (x float64, end int, ok bool) {
	start := i
	neg := data[i] == '-'
	if neg {
		i++
	}
	var mant uint64
	digits := i
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i]-'1' < 9:
		for ; i < len(data) && data[i]-'0' < 10; i++ {
			mant = mant*10 + uint64(data[i]-'0')
		}
	default:
		return 0, i, false
	}
	digits = i - digits
	frac := 0
	if i < len(data) && data[i] == '.' {
		i++
		f := i
		for ; i < len(data) && data[i]-'0' < 10; i++ {
			mant = mant*10 + uint64(data[i]-'0')
		}
		if frac = i - f; frac == 0 {
			return 0, i, false
		}
	}
	switch {
	case i < len(data) && data[i]|0x20 == 'e' || digits+frac > 19 || mant >= 1<<53 || frac > 22:
		return parseSlow(data, start)
	case frac > 0:
		x = float64(mant) / pow10[frac]
	default:
		x = float64(mant)
	}
	if neg {
		x = -x
	}
	return x, i, true
}

// parseSlow parses the number at data[start:] with strconv.
func parseSlow(data []byte, start int) (float64, int, bool) {
	end, want := numberEnd(data, start)
	if want != "" {
		return 0, end, false
	}
	x, err := strconv.ParseFloat(unsafeString(data[start:end]), 64)
	return x, end, err == nil && !math.IsInf(x, 0)
}

// numberEnd checks JSON's grammar of the number at data[i]: it returns
// where the number ends, and what is wanted there when it breaks the
// grammar ("" when it does not).
func numberEnd(data []byte, i int) (int, string) {
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i]-'1' < 9:
		for i < len(data) && data[i]-'0' < 10 {
			i++
		}
	default:
		return i, "want a digit"
	}
	if i < len(data) && data[i] == '.' {
		i++
		f := i
		for i < len(data) && data[i]-'0' < 10 {
			i++
		}
		if i == f {
			return i, "want a digit after '.'"
		}
	}
	if i < len(data) && data[i]|0x20 == 'e' {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i]-'0' >= 10 {
			return i, "want a digit in the exponent"
		}
		for i < len(data) && data[i]-'0' < 10 {
			i++
		}
	}
	return i, ""
}

// unsafeString is b as a string without a copy, for reading only while b
// is unchanged.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// keyText is a key's text, for comparing with field names: the raw bytes
// unless the key has escapes.
func (s *scanner) keyText(v jval) []byte {
	if !v.esc {
		return s.data[v.start:v.end]
	}
	return s.text(v)
}

// text returns a string value's text: escapes decoded and each invalid
// UTF-8 byte replaced by U+FFFD, as encoding/json does. It points into the
// record when there is nothing to decode, else into scratch space that
// stays valid until the next scan.
func (s *scanner) text(v jval) []byte {
	raw := s.data[v.start:v.end]
	if !v.esc && (!v.hi || utf8.Valid(raw)) {
		return raw
	}
	// Decoding never grows a string by more than three times (an invalid
	// byte becomes the three bytes of U+FFFD). Earlier results keep the
	// old backing array if this one moves.
	if cap(s.arena)-len(s.arena) < 3*len(raw) {
		s.arena = make([]byte, 0, 2*cap(s.arena)+3*len(raw))
	}
	start := len(s.arena)
	s.arena = appendText(s.arena, raw)
	return s.arena[start:len(s.arena):len(s.arena)]
}

// appendText appends the decoded text of a string's raw bytes, which scan
// checked, to b.
func appendText(b, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			switch e := raw[i+1]; e {
			case 'u':
				r := hex4(raw[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if len(raw)-i >= 6 && raw[i] == '\\' && raw[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, hex4(raw[i+2:])); dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			default: // '"', '\\', '/'
				b = append(b, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, raw[i:i+n]...)
			}
			i += n
		}
	}
	return b
}

// present reports whether v is there and not null: what the contract calls
// a value.
func (v jval) present() bool { return v.typ != absent && v.typ != jsonNull }

// scalarOK reports whether v is a value a scalar field may hold: null, a
// string, a bool or a number that fits a float64.
func (v jval) scalarOK() bool {
	switch v.typ {
	case jsonNull, jsonString, jsonTrue, jsonFalse:
		return true
	case jsonNumber:
		return v.numOK
	}
	return false
}

// requiredString checks a required string field and returns its text.
func (s *scanner) requiredString(f int, name string) ([]byte, *DecodeError) {
	v := s.fields[f]
	if !v.present() {
		return nil, reject(ReasonMissingField, "%s", name)
	}
	if v.typ != jsonString {
		return nil, reject(ReasonWrongType, "%s: want a string", name)
	}
	if v.start == v.end {
		return nil, reject(ReasonMissingField, "%s is empty", name)
	}
	return s.text(v), nil
}

// checkTime checks the required RFC 3339 "timestamp" and keeps it in s.ts.
func (s *scanner) checkTime() *DecodeError {
	b, err := s.requiredString(fTimestamp, "timestamp")
	if err != nil {
		return err
	}
	ns, ok := parseRFC3339(b)
	if !ok {
		t, terr := time.Parse(time.RFC3339Nano, string(b))
		if terr != nil {
			return reject(ReasonBadTimestamp, "timestamp %q is not RFC 3339", truncate(string(b), 64))
		}
		if t.Before(MinEventTime) || !t.Before(MaxEventTime) {
			return outOfRange(t)
		}
		ns = t.UnixNano()
	}
	if ns < minEventNanos || ns >= maxEventNanos {
		return outOfRange(time.Unix(0, ns))
	}
	s.ts = ns
	return nil
}

var minEventNanos, maxEventNanos = MinEventTime.UnixNano(), MaxEventTime.UnixNano()

func outOfRange(t time.Time) *DecodeError {
	return reject(ReasonBadTimestamp, "timestamp %s is outside the accepted %s to %s",
		t.UTC().Format(time.RFC3339Nano), MinEventTime.Format(time.RFC3339), MaxEventTime.Format(time.RFC3339))
}

// parseRFC3339 parses what time.Parse(time.RFC3339Nano, ...) parses on its
// fast path (the standard library's parseRFC3339), from year 1970 on, to
// unix nanoseconds. Anything else is not ok, and goes to time.Parse.
func parseRFC3339(s []byte) (int64, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	ok := true
	num := func(b []byte, lo, hi int) int {
		x := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				ok = false
				return lo
			}
			x = x*10 + int(c-'0')
		}
		if x < lo || x > hi {
			ok = false
			return lo
		}
		return x
	}
	year := num(s[0:4], 1970, 2261) // later years overflow unix nanoseconds: time.Parse judges them
	month := num(s[5:7], 1, 12)
	day := num(s[8:10], 1, daysIn(month, year))
	hour := num(s[11:13], 0, 23)
	minute := num(s[14:16], 0, 59)
	sec := num(s[17:19], 0, 59)
	if !ok {
		return 0, false
	}
	s = s[19:]
	var nsec int64
	if len(s) >= 2 && s[0] == '.' && s[1] >= '0' && s[1] <= '9' {
		n := 1
		for ; n < len(s) && s[n] >= '0' && s[n] <= '9'; n++ {
		}
		for k := 1; k <= 9; k++ { // digits past the ninth are dropped, as time.Parse drops them
			nsec *= 10
			if k < n {
				nsec += int64(s[k] - '0')
			}
		}
		s = s[n:]
	}
	var offset int
	if len(s) != 1 || s[0] != 'Z' {
		if len(s) != len("-07:00") || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
			return 0, false
		}
		offset = (num(s[1:3], 0, 23)*60 + num(s[4:6], 0, 59)) * 60
		if !ok {
			return 0, false
		}
		if s[0] == '-' {
			offset = -offset
		}
	}
	secs := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec-offset)
	return secs*1e9 + nsec, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch is the number of days from 1970-01-01 to the date
// (Howard Hinnant's days_from_civil).
func daysSinceEpoch(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}

// valueOf converts a scalar the scanner checked (scalarOK) to a Value.
func (s *scanner) valueOf(v jval) Value {
	switch v.typ {
	case jsonString:
		return Value{Kind: String, Str: string(s.text(v))}
	case jsonTrue:
		return Value{Kind: Bool, Num: 1, Str: "true"}
	case jsonFalse:
		return Value{Kind: Bool, Num: 0, Str: "false"}
	case jsonNumber:
		return Value{Kind: Number, Num: v.num}
	}
	return Value{}
}

// checkRecord checks the fields of a scanned prediction log record, in
// the order Decode documents, and reads its timestamp into s.ts.
func (s *scanner) checkRecord() *DecodeError {
	f := &s.fields
	// A wrong type for features is reported before the required fields, as a
	// whole-document decoding into typed fields would.
	if f[fFeatures].present() && f[fFeatures].typ != jsonObject {
		return reject(ReasonWrongType, "features: want an object")
	}
	for _, r := range [...]struct {
		f    int
		name string
	}{{fPredictionID, "prediction_id"}, {fModel, "model"}, {fModelVersion, "model_version"}} {
		if _, err := s.requiredString(r.f, r.name); err != nil {
			return err
		}
	}
	if err := s.checkTime(); err != nil {
		return err
	}
	if !f[fFeatures].present() {
		return reject(ReasonMissingField, "features")
	}
	for _, m := range s.features {
		if !m.val.scalarOK() {
			return reject(ReasonWrongType, "features.%s: want number, string, bool or null", truncate(string(s.text(m.key)), 64))
		}
	}
	// A failed prediction (error) may have no prediction; one it has must
	// be of the kinds a prediction is.
	failed := f[fError].present()
	if failed {
		if _, err := s.requiredString(fError, "error"); err != nil {
			return err
		}
	}
	switch p := f[fPrediction]; {
	case !p.present():
		if !failed {
			return reject(ReasonMissingField, "prediction")
		}
	case p.typ != jsonString && !(p.typ == jsonNumber && p.numOK):
		return reject(ReasonWrongType, "prediction: want number or string")
	}
	if f[fScores].present() {
		if f[fScores].typ != jsonObject {
			return reject(ReasonWrongType, "scores: want an object of numbers")
		}
		for _, m := range s.scores {
			if m.val.typ != jsonNull && !(m.val.typ == jsonNumber && m.val.numOK) {
				return reject(ReasonWrongType, "scores: want an object of numbers")
			}
		}
	}
	if f[fLabel].present() && !f[fLabel].scalarOK() {
		return reject(ReasonWrongType, "label: want number, string, bool or null")
	}
	if f[fSegments].present() {
		if f[fSegments].typ != jsonObject {
			return reject(ReasonWrongType, "segments: want an object")
		}
		for _, m := range s.segments {
			if !m.val.scalarOK() {
				return reject(ReasonWrongType, "segments.%s: want a string, number or bool", truncate(string(s.text(m.key)), 64))
			}
		}
	}
	if f[fVariant].present() {
		if _, err := s.requiredString(fVariant, "variant"); err != nil {
			return err
		}
	}
	if l := f[fLatency]; l.present() && !(l.typ == jsonNumber && l.numOK) {
		return reject(ReasonWrongType, "latency_ms: want a number")
	}
	return nil
}

// checkLabel checks the fields of a scanned late label, in the order
// DecodeLabel documents, and reads its timestamp into s.ts.
func (s *scanner) checkLabel() *DecodeError {
	if _, err := s.requiredString(fPredictionID, "prediction_id"); err != nil {
		return err
	}
	if _, err := s.requiredString(fModel, "model"); err != nil {
		return err
	}
	if err := s.checkTime(); err != nil {
		return err
	}
	l := s.fields[fLabel]
	if !l.present() {
		return reject(ReasonMissingField, "label")
	}
	if !l.scalarOK() {
		return reject(ReasonWrongType, "label: want number, string or bool")
	}
	return nil
}

// record returns the checked record as a Record, sharing no memory with it.
func (s *scanner) record() Record {
	f := &s.fields
	r := Record{
		PredictionID: string(s.text(f[fPredictionID])),
		Model:        string(s.text(f[fModel])),
		ModelVersion: string(s.text(f[fModelVersion])),
		Timestamp:    time.Unix(0, s.ts).UTC(),
		Features:     make(map[string]Value, len(s.features)),
		Prediction:   s.valueOf(f[fPrediction]),
		LatencyMS:    math.NaN(),
	}
	for _, m := range s.features {
		r.Features[string(s.text(m.key))] = s.valueOf(m.val)
	}
	if f[fScores].present() {
		r.Scores = make(map[string]float64, len(s.scores))
		for _, m := range s.scores {
			r.Scores[string(s.text(m.key))] = m.val.num // a null is 0, as encoding/json leaves it
		}
	}
	if f[fLabel].present() {
		r.Label = s.valueOf(f[fLabel])
	}
	if f[fSegments].present() {
		r.Segments = make(map[string]string, len(s.segments))
		for _, m := range s.segments {
			k := string(s.text(m.key))
			if m.val.typ == jsonNull {
				delete(r.Segments, k)
			} else {
				r.Segments[k] = s.valueOf(m.val).Text()
			}
		}
	}
	if f[fVariant].present() {
		r.Variant = string(s.text(f[fVariant]))
	}
	if f[fLatency].present() {
		r.LatencyMS = f[fLatency].num
	}
	if f[fError].present() {
		r.Error = string(s.text(f[fError]))
	}
	return r
}

// appendValueText appends a checked scalar's category text (Value.Text) to
// b without building a Value.
func (s *scanner) appendValueText(b []byte, v jval) []byte {
	switch v.typ {
	case jsonString:
		return append(b, s.text(v)...)
	case jsonTrue:
		return append(b, "true"...)
	case jsonFalse:
		return append(b, "false"...)
	case jsonNumber:
		return strconv.AppendFloat(b, v.num, 'g', -1, 64)
	}
	return b
}
