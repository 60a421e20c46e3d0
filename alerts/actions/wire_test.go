package actions

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// TestWireGolden holds the body, an outside contract, to the committed
// files; go test -run TestWireGolden -update rewrites them, and their diff
// is the change of contract to review (and to version).
func TestWireGolden(t *testing.T) {
	retrain := action(KindRetrain, "fraud", "3")
	retrain.At = time.Date(2026, 11, 23, 14, 0, 5, 250_000_000, time.FixedZone("CET", 3600))
	rollback := Action{
		ID: MakeID(KindRollback, "fraud", "4", t0), Kind: KindRollback, Model: "fraud", ModelVersion: "4",
		Reason: "PerformanceCollapse", Severity: "SEV-1", WindowStart: t0, WindowEnd: t0.Add(time.Hour), At: t0.Add(time.Hour),
	}
	for name, a := range map[string]Action{"retrain": retrain, "rollback_no_evidence": rollback} {
		t.Run(name, func(t *testing.T) {
			body, err := a.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			var indented bytes.Buffer
			if err := json.Indent(&indented, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			indented.WriteByte('\n')
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, indented.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -run TestWireGolden -update writes it)", err)
			}
			if indented.String() != string(want) {
				t.Errorf("body of %s changed:\n%s\nwant (%s):\n%s", name, indented.Bytes(), path, want)
			}
			var back Action
			if err := json.Unmarshal(want, &back); err != nil {
				t.Fatal(err)
			}
			if back.ID != a.ID || back.Kind != a.Kind || !back.At.Equal(a.At) || len(back.Evidence) != len(a.Evidence) {
				t.Errorf("decoded %+v", back)
			}
		})
	}
}

func TestUnmarshalRejectsOtherVersions(t *testing.T) {
	for _, body := range []string{
		`{"id":"x","action":"retrain"}`,
		`{"version":2,"id":"x","action":"retrain"}`,
		`{"version":"1"}`,
		`[]`,
	} {
		var a Action
		if err := json.Unmarshal([]byte(body), &a); err == nil {
			t.Errorf("%s: decoded", body)
		}
	}
	var a Action
	if err := json.Unmarshal([]byte(`{"version":1,"id":"x","action":"retrain","model":"m","added_later":{"a":1},"evidence":[]}`), &a); err != nil || a.ID != "x" {
		t.Errorf("a body with a field added within version 1: %+v, %v", a, err)
	}
}

func TestMakeID(t *testing.T) {
	at := time.Date(2026, 11, 23, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	if got := MakeID(KindRetrain, "fraud", "3", at); got != "retrain/fraud/3/2026-11-23T12:00:00Z" {
		t.Errorf("MakeID: %s", got)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"version":1,"id":"retrain/fraud/3/2026-11-23T12:00:00Z"}`)
	const ts = "1795435200"
	signedAt := WithClock(func() time.Time { return time.Unix(1795435200, 0) })
	sig := sign(testSecret, ts, body)
	// The reference value, as a receiver computes it in a shell (and as
	// Python's hmac module agrees):
	// printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$secret"
	if want := "sha256=4e2127afc84a9afb9a113a0a7812fbdb92c91456dc3b425a026cb2aaaec30e7e"; sig != want {
		t.Fatalf("sign: %s, want %s", sig, want)
	}
	flip := func(s string) string {
		return s[:len(s)-1] + map[bool]string{true: "0", false: "1"}[s[len(s)-1] != '0']
	}
	cases := []struct {
		name          string
		secret        []byte
		ts, sig, body string
		want          string // "" for none
	}{
		{"ok", testSecret, ts, sig, string(body), ""},
		{"upper-case hex", testSecret, ts, "sha256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256=")), string(body), ""},
		{"wrong secret", []byte("another secret"), ts, sig, string(body), "mismatch"},
		{"body altered", testSecret, ts, sig, strings.Replace(string(body), "3", "4", 1), "mismatch"},
		{"timestamp altered", testSecret, "1795435201", sig, string(body), "mismatch"},
		{"signature altered", testSecret, ts, flip(sig), string(body), "mismatch"},
		{"no scheme", testSecret, ts, strings.TrimPrefix(sig, "sha256="), string(body), `does not start with "sha256="`},
		{"other scheme", testSecret, ts, "sha1=" + strings.TrimPrefix(sig, "sha256="), string(body), `does not start with "sha256="`},
		{"not hex", testSecret, ts, "sha256=zz", string(body), "not 32 hex-encoded bytes"},
		{"truncated", testSecret, ts, sig[:len(sig)-2], string(body), "not 32 hex-encoded bytes"},
		{"empty signature", testSecret, ts, "", string(body), `does not start with "sha256="`},
		{"timestamp not a number", testSecret, "yesterday", sig, string(body), `timestamp "yesterday" is not unix seconds`},
		{"empty timestamp", testSecret, "", sig, string(body), "is not unix seconds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(c.secret, c.ts, c.sig, []byte(c.body), signedAt)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Verify: %v", err)
			case c.want != "" && (!errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Verify: %v, want ErrSignature with %q", err, c.want)
			}
		})
	}
	if err := Verify(nil, ts, sig, body, signedAt); err == nil || errors.Is(err, ErrSignature) {
		t.Errorf("Verify with no secret: %v", err)
	}
}

// FuzzVerify: Verify accepts exactly what sign produces, and never panics;
// the clock is the seeds' time, so a timestamp far from it is refused as
// stale (ErrStale) whatever its signature.
func FuzzVerify(f *testing.F) {
	clock := WithClock(func() time.Time { return time.Unix(1795435200, 0) })
	f.Add([]byte("k"), "1795435200", "sha256=00", []byte("{}"))
	f.Add(testSecret, "-1", sign(testSecret, "-1", []byte("x")), []byte("x"))
	f.Fuzz(func(t *testing.T, secret []byte, ts, sig string, body []byte) {
		err := Verify(secret, ts, sig, body, clock)
		if len(secret) == 0 {
			return
		}
		good := sign(secret, ts, body)
		if err == nil && !strings.EqualFold(sig, good) {
			t.Fatalf("Verify accepted %q, the signature is %q", sig, good)
		}
		if err == nil {
			return
		}
		if err := Verify(secret, ts, good, body, clock); err != nil && !strings.Contains(err.Error(), "unix seconds") && !errors.Is(err, ErrStale) {
			t.Fatalf("Verify rejected sign's own signature: %v", err)
		}
	})
}

// FuzzUnmarshal: decoding any input never panics, and what decodes encodes
// back to a body that decodes the same.
func FuzzUnmarshal(f *testing.F) {
	for _, name := range []string{"retrain", "rollback_no_evidence"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".golden.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Action
		if json.Unmarshal(data, &a) != nil {
			return
		}
		body, err := a.MarshalJSON()
		if err != nil {
			return // times past year 9999, say
		}
		var b Action
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("re-decode %s: %v", body, err)
		}
		again, err := b.MarshalJSON()
		if err != nil || !bytes.Equal(body, again) {
			t.Fatalf("not stable:\n%s\n%s (%v)", body, again, err)
		}
	})
}
