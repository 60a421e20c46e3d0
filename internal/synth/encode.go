package synth

import (
	"math"
	"strconv"
	"time"
)

const hexDigits = "0123456789abcdef"

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// appendFixed appends x rounded half away from zero to dec decimal places
// (0 <= dec <= 9) as a plain JSON number without trailing zeros, e.g. 120.5
// or -3. Magnitudes past 2^53 after scaling fall back to Go's shortest
// representation; NaN and ±Inf, which JSON cannot hold, become null.
func appendFixed(b []byte, x float64, dec int) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(b, "null"...)
	}
	scale := pow10[dec]
	r := math.Round(x * scale)
	if math.Abs(r) >= 1<<53 {
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	}
	n := int64(r)
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	unit := int64(scale)
	b = strconv.AppendInt(b, n/unit, 10)
	frac := n % unit
	if frac == 0 {
		return b
	}
	var digits [9]byte
	for i := dec - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	end := dec
	for digits[end-1] == '0' {
		end--
	}
	b = append(b, '.')
	return append(b, digits[:end]...)
}

// round returns x rounded half away from zero to dec decimal places, the
// value appendFixed writes.
func round(x float64, dec int) float64 {
	scale := pow10[dec]
	r := math.Round(x * scale)
	if math.Abs(r) >= 1<<53 {
		return x
	}
	return r / scale
}

// uuidLen is the length of a UUID in its 8-4-4-4-12 hex form.
const uuidLen = 36

// putUUID writes hi and lo as a version 4, variant 1 UUID in 8-4-4-4-12 hex
// form into dst.
func putUUID(dst *[uuidLen]byte, hi, lo uint64) {
	hi = hi&^0xf000 | 0x4000           // version 4
	lo = lo&^(0xc000<<48) | 0x8000<<48 // variant 10xx
	var raw [16]byte
	for i := range 8 {
		raw[i] = byte(hi >> (56 - 8*i))
		raw[8+i] = byte(lo >> (56 - 8*i))
	}
	j := 0
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j] = hexDigits[c>>4]
		dst[j+1] = hexDigits[c&0xf]
		j += 2
	}
}

// timestampLayout is the layout appendTimestamp writes.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// appendTimestamp appends t in UTC as RFC 3339 with milliseconds, e.g.
// 2026-11-20T10:15:03.120Z, as t.UTC().AppendFormat(b, timestampLayout)
// does for years 0 to 9999, at a fraction of its cost. Sub-millisecond
// digits are truncated.
func appendTimestamp(b []byte, t time.Time) []byte {
	const msPerDay = 24 * 60 * 60 * 1000
	ms := t.UnixMilli()
	days := ms / msPerDay
	if ms%msPerDay < 0 {
		days--
	}
	ms -= days * msPerDay
	// Civil date from days since 1970-01-01: Hinnant, "chrono-compatible
	// low-level date algorithms", civil_from_days.
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	year := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	if month <= 2 {
		year++
	}
	if year < 0 || year > 9999 {
		return t.UTC().AppendFormat(b, timestampLayout)
	}
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, month, 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, ms/3_600_000, 2)
	b = append(b, ':')
	b = appendDigits(b, ms/60_000%60, 2)
	b = append(b, ':')
	b = appendDigits(b, ms/1000%60, 2)
	b = append(b, '.')
	b = appendDigits(b, ms%1000, 3)
	return append(b, 'Z')
}

// appendDigits appends 0 <= x < 10^width as exactly width decimal digits.
func appendDigits(b []byte, x int64, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + x%10)
		x /= 10
	}
	return append(b, d[:width]...)
}
