package jsontext

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAppendString(t *testing.T) {
	tests := []string{"", "fraud", `a"b\c`, "tab\there\nnl\x01", "ünïcode ✓", "bad\xffutf8", "\u2028"}
	for _, s := range tests {
		b := AppendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("AppendString(%q) = %s: %v", s, b, err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); got != want {
			t.Errorf("AppendString(%q) decodes to %q", s, got)
		}
	}
}
