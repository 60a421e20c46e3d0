package actions

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/stats/drift"
)

// WireVersion is the version of the body (its "version" field) this
// package writes and reads.
const WireVersion = 1

// Headers of a webhook request and of a Kafka record (see the package doc).
const (
	HeaderTimestamp      = "X-Driftwatch-Timestamp"
	HeaderSignature      = "X-Driftwatch-Signature"
	HeaderDelivery       = "X-Driftwatch-Delivery"
	HeaderIdempotencyKey = "Idempotency-Key"

	KafkaHeaderAction = "driftwatch.action"
	KafkaHeaderID     = "driftwatch.id"
)

// signaturePrefix names the signature's scheme in HeaderSignature.
const signaturePrefix = "sha256="

// message is the body, version 1. Its times are in UTC.
type message struct {
	Version      int         `json:"version"`
	ID           string      `json:"id"`
	Action       string      `json:"action"`
	Model        string      `json:"model"`
	ModelVersion string      `json:"model_version"`
	Reason       string      `json:"reason"`
	Severity     string      `json:"severity"`
	WindowStart  time.Time   `json:"window_start"`
	WindowEnd    time.Time   `json:"window_end"`
	TriggeredAt  time.Time   `json:"triggered_at"`
	Evidence     []drift.Row `json:"evidence"`
}

// encode is a's body.
func encode(a *Action) ([]byte, error) {
	m := message{
		Version: WireVersion, ID: a.ID, Action: a.Kind, Model: a.Model, ModelVersion: a.ModelVersion,
		Reason: a.Reason, Severity: a.Severity,
		WindowStart: a.WindowStart.UTC(), WindowEnd: a.WindowEnd.UTC(), TriggeredAt: a.At.UTC(),
		Evidence: make([]drift.Row, len(a.Evidence)), // [] rather than null when empty
	}
	for i, r := range a.Evidence {
		r.WindowStart, r.WindowEnd = r.WindowStart.UTC(), r.WindowEnd.UTC()
		m.Evidence[i] = r
	}
	body, err := json.Marshal(&m)
	if err != nil {
		return nil, fmt.Errorf("encode action %s: %w", a.ID, err)
	}
	return body, nil
}

// MarshalJSON returns a's body in the wire format (package doc).
func (a Action) MarshalJSON() ([]byte, error) { return encode(&a) }

// UnmarshalJSON decodes a body in the wire format, for receivers written
// in Go. It rejects a body of another version; unknown fields (added
// within the version) are ignored. Times are in UTC.
func (a *Action) UnmarshalJSON(data []byte) error {
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("decode action: %w", err)
	}
	if m.Version != WireVersion {
		return fmt.Errorf("decode action %q: version %d, want %d", m.ID, m.Version, WireVersion)
	}
	*a = Action{
		ID: m.ID, Kind: m.Action, Model: m.Model, ModelVersion: m.ModelVersion, Reason: m.Reason, Severity: m.Severity,
		WindowStart: m.WindowStart, WindowEnd: m.WindowEnd, Evidence: m.Evidence, At: m.TriggeredAt,
	}
	return nil
}

// mac is HMAC-SHA256(secret, timestamp + "." + body).
func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	writeSigned(h, timestamp, body)
	var sum [sha256.Size]byte
	return h.Sum(sum[:0])
}

func writeSigned(h hash.Hash, timestamp string, body []byte) {
	var buf [24]byte // a decimal int64 and the dot
	h.Write(append(append(buf[:0], timestamp...), '.'))
	h.Write(body)
}

// sign is the value of HeaderSignature for body sent at timestamp (unix
// seconds, in decimal).
func sign(secret []byte, timestamp string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, timestamp, body))
}

// ErrSignature is wrapped by every error of Verify about the request (not
// about the secret or the options).
var ErrSignature = errors.New("invalid signature")

// ErrStale is wrapped, with ErrSignature, by Verify's error for a request
// signed correctly but with a timestamp past the tolerance from the
// receiver's clock: a replay, or a clock that is off.
var ErrStale = errors.New("timestamp outside the tolerance")

// DefaultTolerance is how far a request's timestamp may be from the
// receiver's clock, either way, for Verify to accept it.
const DefaultTolerance = 5 * time.Minute

// VerifyOption changes how Verify judges a request's timestamp.
type VerifyOption func(*verifyOptions)

type verifyOptions struct {
	tolerance time.Duration
	now       func() time.Time
}

// WithTolerance sets how far (inclusive) the timestamp may be from the
// clock, either way (default DefaultTolerance); it must be positive.
func WithTolerance(d time.Duration) VerifyOption {
	return func(o *verifyOptions) { o.tolerance = d }
}

// WithClock sets the receiver's clock (default time.Now).
func WithClock(now func() time.Time) VerifyOption {
	return func(o *verifyOptions) { o.now = now }
}

// Verify checks a webhook request: timestamp and signature are the values
// of its X-Driftwatch-Timestamp and X-Driftwatch-Signature headers, body
// its raw body, secret the key shared with driftwatch. It returns nil if
// the signature is HMAC-SHA256(secret, timestamp + "." + body), compared
// in constant time, and the timestamp (decimal unix seconds) is at most
// the tolerance (DefaultTolerance, 5 minutes, unless WithTolerance) from
// the clock (WithClock) either way; else an error wrapping ErrSignature,
// and ErrStale too for an authentic request past the tolerance, so that a
// request captured and replayed later is refused. Each retry of a delivery
// is signed afresh, so the tolerance bounds clock skew plus transit, not
// retries. Receivers still deduplicate on the id: a replay within the
// tolerance passes.
func Verify(secret []byte, timestamp, signature string, body []byte, opts ...VerifyOption) error {
	o := verifyOptions{tolerance: DefaultTolerance, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if len(secret) == 0 {
		return errors.New("verify action signature: empty secret")
	}
	if o.tolerance <= 0 {
		return fmt.Errorf("verify action signature: tolerance %v: must be positive", o.tolerance)
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("verify action signature: %w: timestamp %q is not unix seconds", ErrSignature, timestamp)
	}
	hexSum, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok {
		return fmt.Errorf("verify action signature: %w: %q does not start with %q", ErrSignature, signature, signaturePrefix)
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("verify action signature: %w: not %d hex-encoded bytes", ErrSignature, sha256.Size)
	}
	if !hmac.Equal(got, mac(secret, timestamp, body)) {
		return fmt.Errorf("verify action signature: %w: mismatch (wrong secret, or body or timestamp altered)", ErrSignature)
	}
	// Clamped where time.Unix would overflow (far past any tolerance
	// anyway); Sub saturates.
	age := o.now().Sub(time.Unix(min(max(sec, -1<<62), 1<<62), 0))
	switch {
	case age > o.tolerance:
		return fmt.Errorf("verify action signature: %w: %w: timestamp %s is %v old, past the tolerance of %v", ErrSignature, ErrStale, timestamp, age, o.tolerance)
	case age < -o.tolerance:
		return fmt.Errorf("verify action signature: %w: %w: timestamp %s is %v ahead, past the tolerance of %v", ErrSignature, ErrStale, timestamp, -age, o.tolerance)
	}
	return nil
}
