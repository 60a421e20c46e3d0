package actions

import (
	"fmt"
	"strconv"
	"testing"
)

// BenchmarkEncodeAndSign builds the body of one action with 16 evidence
// rows and signs it, as Trigger and each webhook attempt do.
func BenchmarkEncodeAndSign(b *testing.B) {
	a := action(KindRetrain, "fraud", "3")
	a.At = t0
	for i := len(a.Evidence); i < 16; i++ {
		r := a.Evidence[i%2]
		r.Subject = fmt.Sprintf("feature_%02d", i)
		a.Evidence = append(a.Evidence, r)
	}
	ts := strconv.FormatInt(t0.Unix(), 10)
	body, err := encode(&a)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		body, err := encode(&a)
		if err != nil {
			b.Fatal(err)
		}
		_ = sign(testSecret, ts, body)
	}
}
