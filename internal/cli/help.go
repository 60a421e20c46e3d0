package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// helps is each command's help: its synopsis, what it does and examples,
// printed above its flags by -h (to standard output) and after a usage
// error (to standard error).
var helps = map[string]struct{ synopsis, about, examples string }{
	"demo": {
		"driftwatch demo [--out DIR] [--seed N] [--records-per-window N]",
		"everything embedded: a Kafka-protocol broker, a synthetic serving stack with known drift, the pipeline, a readable result",
		`driftwatch demo
driftwatch demo --seed 7 --out /tmp/driftwatch-demo`,
	},
	"run": {
		"driftwatch run --config FILE",
		"the production daemon: Kafka in, metric rows to ClickHouse (or a JSON-lines file), alerts to Alertmanager, /metrics, /healthz and /readyz on http.listen",
		`driftwatch run --config deploy/driftwatch.yml
DRIFTWATCH_CLICKHOUSE_PASSWORD=... driftwatch run --config /etc/driftwatch/driftwatch.yml`,
	},
	"baseline": {
		"driftwatch baseline --model NAME --input FILE [flags]",
		"builds a baseline from a reference file (JSON lines or CSV, optionally gzipped) or from an initial production period of a prediction log",
		`driftwatch baseline --model fraud --input training.csv.gz --model-version 1.4.2
driftwatch baseline --model fraud --input predictions.jsonl --only-version 1.4.2 --first 24h
driftwatch baseline list --dir baselines
driftwatch baseline promote --dir baselines --id fraud-20261101T000000Z-3f2a`,
	},
	"baseline list": {
		"driftwatch baseline list [--dir DIR]",
		"lists the baselines of a directory (id, model, version, created, rows, source), the one in use per model marked *",
		`driftwatch baseline list
driftwatch baseline list --dir /var/lib/driftwatch/baselines`,
	},
	"baseline promote": {
		"driftwatch baseline promote [--dir DIR] --id ID",
		"makes a baseline the one its model uses from now on, over newer ones",
		`driftwatch baseline promote --id fraud-20261101T000000Z-3f2a
driftwatch baseline promote --dir /var/lib/driftwatch/baselines --id churn-20261120T120000Z-9c1d`,
	},
	"replay": {
		"driftwatch replay --baselines DIR [--input FILE] [--labels FILE] [--output FILE] [flags]",
		"the same pipeline over files: prediction JSON lines in, metric rows out as JSON lines; the same input gives byte-identical output",
		`driftwatch replay --baselines baselines --input predictions.jsonl --output rows.jsonl
zcat predictions.jsonl.gz | driftwatch replay --baselines baselines --labels labels.jsonl > rows.jsonl
driftwatch replay --config deploy/driftwatch.yml --input predictions.jsonl --output rows.jsonl`,
	},
	"report": {
		"driftwatch report --model NAME [--version V] [--from T] [--to T] [--out FILE] [--card] [--metrics FILE | --config FILE]",
		"writes one self-contained HTML page for the people who own a model: what drifted, since when and how badly first, then per version the charts, the alerts and the model card with its subgroup table; from ClickHouse (--config) or from the files of replay (--metrics)",
		`driftwatch report --config deploy/driftwatch.yml --model fraud                      the last 7 days
driftwatch report --config deploy/driftwatch.yml --model fraud --from 2026-11-16 --to 2026-11-23 --out fraud-week-47.html
driftwatch report --metrics rows.jsonl --baselines baselines --model fraud --card`,
	},
	"version": {
		"driftwatch version (or --version)",
		"prints the version, the commit it was built from and the Go version, from the build information",
		`driftwatch version`,
	},
	"healthcheck": {
		"driftwatch healthcheck [--url URL | --config FILE] [--ready] [--timeout 3s]",
		"probes a running 'driftwatch run' and exits 0 if it answers 2xx, 1 if not (the reason on stderr): a container health check that needs no shell",
		`driftwatch healthcheck
driftwatch healthcheck --config /etc/driftwatch/driftwatch.yml --ready
driftwatch healthcheck --url http://10.0.0.7:9464/healthz`,
	},
}

// newFlags returns the flag set of command name. Its usage (helps[name],
// then the flags) goes to stderr, after a usage error; parse sends it to
// stdout when the command is asked for its help.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("driftwatch "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	h, ok := helps[name]
	if !ok {
		panic("cli: no help for command " + name) // every command has one (TestHelp)
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s\n\n%s\n\nexamples:\n", h.synopsis, h.about)
		for _, line := range strings.Split(h.examples, "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
		if hasFlags(fs) {
			fmt.Fprint(w, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parse parses args into fs. Asked for help (-h, -help, --help), it prints
// the usage to stdout and returns flag.ErrHelp (exit 0); a usage error
// goes to stderr with the usage (exit 2).
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
		fs.SetOutput(stdout)
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
