package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/pipeline"
	"github.com/driftwatch/driftwatch/internal/reference"
	"github.com/driftwatch/driftwatch/internal/synth"
	"github.com/driftwatch/driftwatch/sinks/jsonl"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// fixture is the demo scenario's prediction log (about 112,000 records) and
// baselines built from its training data, made once per run.
type fixture struct {
	log     []byte
	records int
	base    map[string]*baselines.Baseline
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

func load(b *testing.B) *fixture {
	b.Helper()
	fixOnce.Do(func() {
		scen := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
		var buf bytes.Buffer
		fixErr = scen.Generate(func(m synth.Message) error {
			buf.Write(m.Value)
			buf.WriteByte('\n')
			fix.records++
			return nil
		})
		if fixErr != nil {
			return
		}
		fix.log = buf.Bytes()
		fix.base = make(map[string]*baselines.Baseline)
		dir := b.TempDir()
		for _, m := range scen.Models {
			var ref bytes.Buffer
			if fixErr = scen.Reference(m.Name, 20_000, &ref); fixErr != nil {
				return
			}
			path := filepath.Join(dir, m.Name+".jsonl")
			if fixErr = os.WriteFile(path, ref.Bytes(), 0o644); fixErr != nil {
				return
			}
			var bl *baselines.Baseline
			if bl, _, fixErr = reference.Build(path, m.Name, baselines.BuildOptions{}); fixErr != nil {
				return
			}
			fix.base[m.Name] = bl
		}
	})
	if fixErr != nil {
		b.Fatal(fixErr)
	}
	return &fix
}

func report(b *testing.B, f *fixture) {
	b.SetBytes(int64(len(f.log)))
	b.ReportMetric(float64(f.records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReplay runs the whole replay pipeline over the log per iteration.
func BenchmarkReplay(b *testing.B) {
	f := load(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		src := consumer.NewFileSource(memory.DefaultAllocator, bytes.NewReader(f.log), "bench", consumer.FileConfig{Baselines: f.base})
		p := &pipeline.Pipeline{
			Source:    src,
			Windows:   windows.Config{Size: time.Hour, Lateness: 10 * time.Minute, FlushAtEnd: true},
			Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil),
			Sink:      jsonl.New(io.Discard, "discard"),
		}
		if err := p.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	report(b, f)
}

// BenchmarkJSONDecode is the floor: split the same file into lines and
// decode each with encoding/json into a generic map, nothing else.
func BenchmarkJSONDecode(b *testing.B) {
	f := load(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		eachLine(f.log, func(line []byte) {
			var m map[string]any
			_ = json.Unmarshal(line, &m) // bad records fail here too, as they should
		})
	}
	report(b, f)
}

// BenchmarkContractDecode decodes and validates each line against the
// contract (consumer.Decode), without batching or windows.
func BenchmarkContractDecode(b *testing.B) {
	f := load(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		eachLine(f.log, func(line []byte) { _, _ = consumer.Decode(line, 0) })
	}
	report(b, f)
}

func eachLine(data []byte, fn func([]byte)) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fn(sc.Bytes())
	}
}
