package consumer

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// contractCase is one case of testdata/contract/cases.json, the table of
// prediction and label records (CONTRACT.md sections 1 and 2) shared with
// the Python client (clients/python), whose validator must give every case
// the same verdict and dead-letter reason code. testdata/contract/gen_cases.py
// writes the table.
type contractCase struct {
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Record       string `json:"record"`
	RecordBase64 string `json:"record_base64"`
	Valid        bool   `json:"valid"`
	Reason       string `json:"reason"`
	MaxBytes     int    `json:"max_bytes"`
}

func loadContractCases(t *testing.T) []contractCase {
	t.Helper()
	b, err := os.ReadFile("testdata/contract/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []contractCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("testdata/contract/cases.json: %v", err)
	}
	return cases
}

// TestContractCases: Decode and DecodeLabel give each case of the shared
// table its verdict and reason code, so the table is the consumer's
// behaviour; and the table covers every reason code a producer can cause,
// for predictions and for labels.
func TestContractCases(t *testing.T) {
	cases := loadContractCases(t)
	seen := map[string]bool{}
	reasons := map[string]map[string]int{"prediction": {}, "label": {}}
	for _, c := range cases {
		if seen[c.Name] {
			t.Errorf("case %q: the name is repeated", c.Name)
		}
		seen[c.Name] = true
		if c.Valid != (c.Reason == "") {
			t.Errorf("case %q: valid %v with reason %q", c.Name, c.Valid, c.Reason)
		}
		data := []byte(c.Record)
		if c.RecordBase64 != "" {
			var err error
			if data, err = base64.StdEncoding.DecodeString(c.RecordBase64); err != nil {
				t.Fatalf("case %q: record_base64: %v", c.Name, err)
			}
		}
		var err error
		switch c.Kind {
		case "prediction":
			_, err = Decode(data, c.MaxBytes)
		case "label":
			_, err = DecodeLabel(data, c.MaxBytes)
		default:
			t.Fatalf("case %q: kind %q, want prediction or label", c.Name, c.Kind)
		}
		got := ""
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("case %q: error %v is not a *DecodeError", c.Name, err)
				continue
			}
			got = de.Code
		}
		if got != c.Reason {
			t.Errorf("case %q (%s): consumer says %q (%v), the table says %q\nrecord: %.300q", c.Name, c.Kind, got, err, c.Reason, data)
		}
		reasons[c.Kind][c.Reason]++
	}
	// Every reason a record can have from its bytes alone; no_baseline
	// depends on the baselines, not on the record.
	for kind, byReason := range reasons {
		for _, r := range []string{"", ReasonTooBig, ReasonNotJSON, ReasonMissingField, ReasonWrongType, ReasonBadTimestamp} {
			if byReason[r] == 0 {
				t.Errorf("the table has no %s case with reason %q", kind, r)
			}
		}
	}
	if len(cases) < 200 {
		t.Errorf("the table has %d cases; it had 253 when written: were cases lost?", len(cases))
	}
}
