// Package secret holds the string type of passwords and other credentials
// in driftwatch's configuration: it never prints.
package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what a non-empty Secret prints as.
const Redacted = "[REDACTED]"

// Secret is a string that never prints: String, GoString, LogValue and
// MarshalText all give Redacted (or "" when it is empty, so a missing
// password stays visible). Read the value with string(s).
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString redacts %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// LogValue redacts the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText redacts the secret in JSON, YAML and other text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
