package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/driftwatch/driftwatch/alerts"
	"github.com/driftwatch/driftwatch/internal/cli"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// root is the repository's root, from this package's directory.
const root = "../.."

// section is one "## N. Title" section of CONTRACT.md.
type section struct {
	title string
	body  string
}

func contractSections(t *testing.T) map[int]section {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "CONTRACT.md"))
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile(`(?m)^## (\d+)\. (.+)$`)
	out := map[int]section{}
	locs := heading.FindAllSubmatchIndex(b, -1)
	for i, m := range locs {
		n, _ := strconv.Atoi(string(b[m[2]:m[3]]))
		end := len(b)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		if _, dup := out[n]; dup {
			t.Fatalf("CONTRACT.md has section %d twice", n)
		}
		out[n] = section{title: string(b[m[4]:m[5]]), body: string(b[m[1]:end])}
	}
	for n := 1; n <= len(out); n++ {
		if _, ok := out[n]; !ok {
			t.Fatalf("CONTRACT.md has no section %d (sections must be numbered 1 to %d)", n, len(out))
		}
	}
	return out
}

// table returns the body rows, as cells, of the Markdown table in body
// whose header's first cell is header.
func table(t *testing.T, body, header string) [][]string {
	t.Helper()
	var rows [][]string
	in := false
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if in {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case !in && cells[0] == header:
			in = true
		case in && strings.HasPrefix(cells[0], "---"):
		case in:
			rows = append(rows, cells)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("no table with header %q", header)
	}
	return rows
}

var tick = regexp.MustCompile("`([^`]+)`")

// ticks returns the backticked names in s.
func ticks(s string) []string {
	var out []string
	for _, m := range tick.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func set(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// sameSet reports the names only one side has.
func sameSet(t *testing.T, what string, code, contract map[string]bool) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(code)) {
		if !contract[k] {
			t.Errorf("%s: the code has %q, CONTRACT.md does not list it", what, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(contract)) {
		if !code[k] {
			t.Errorf("%s: CONTRACT.md lists %q, the code has no such name", what, k)
		}
	}
}

// goFiles parses the non-test Go files of a directory of the repository.
func goFiles(t *testing.T, dir string) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return files
}

// constStrings returns the values of the string constants of a package
// whose names start with prefix.
func constStrings(t *testing.T, dir, prefix string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, f := range goFiles(t, dir) {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, prefix) || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						out[v] = true
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no string constants %s* in %s", prefix, dir)
	}
	return out
}

// stringLiterals returns every string literal of a package's code.
func stringLiterals(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, f := range goFiles(t, dir) {
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, _ := strconv.Unquote(lit.Value)
				out[v] = true
			}
			return true
		})
	}
	return out
}

// caseStrings returns the string literals of the case clauses of function
// fn in a package: the keys a decoder recognizes.
func caseStrings(t *testing.T, dir, fn string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, f := range goFiles(t, dir) {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Name.Name != fn {
				continue
			}
			ast.Inspect(fd, func(n ast.Node) bool {
				if cc, ok := n.(*ast.CaseClause); ok {
					for _, e := range cc.List {
						if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							out[v] = true
						}
					}
				}
				return true
			})
		}
	}
	if len(out) == 0 {
		t.Fatalf("no case strings in %s.%s", dir, fn)
	}
	return out
}

// firstTicks is the set of backticked names of the first cell of rows.
func firstTicks(rows [][]string) map[string]bool {
	out := map[string]bool{}
	for _, r := range rows {
		for _, x := range ticks(r[0]) {
			out[x] = true
		}
	}
	return out
}

func TestPredictionAndLabelFields(t *testing.T) {
	s := contractSections(t)
	sameSet(t, "section 1, prediction log fields (consumer.fieldOf)",
		caseStrings(t, "consumer", "fieldOf"), firstTicks(table(t, s[1].body, "field")))
	sameSet(t, "section 2, label fields (consumer.labelFieldOf)",
		caseStrings(t, "consumer", "labelFieldOf"), firstTicks(table(t, s[2].body, "field")))
}

func TestDeadLetters(t *testing.T) {
	s := contractSections(t)
	sameSet(t, "section 4, reason codes (consumer.Reason*)",
		constStrings(t, "consumer", "Reason"), firstTicks(table(t, s[4].body, "reason")))
	sameSet(t, "section 4, dead-letter headers (consumer.Header*)",
		constStrings(t, "consumer", "Header"), firstTicks(table(t, s[4].body, "header")))
	// replay's dead-letter lines: consumer.DeadLetterLine's JSON fields.
	var fields []string
	for _, f := range goFiles(t, "consumer") {
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || ts.Name.Name != "DeadLetterLine" {
				return true
			}
			for _, fl := range ts.Type.(*ast.StructType).Fields.List {
				tag, _ := strconv.Unquote(fl.Tag.Value)
				name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
				fields = append(fields, name)
			}
			return false
		})
	}
	sameSet(t, "section 4, replay's dead-letter lines (consumer.DeadLetterLine)", set(fields...), firstTicks(table(t, s[4].body, "field")))
}

func TestMetricRows(t *testing.T) {
	s := contractSections(t)
	body := s[3].body
	var cols []string
	rt := reflect.TypeOf(drift.Row{})
	for i := range rt.NumField() {
		if name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); name != "-" {
			cols = append(cols, name)
		}
	}
	columns := table(t, body, "column")
	sameSet(t, "section 3, row columns (drift.Row)", set(cols...), firstTicks(columns))

	families := table(t, body, "family")
	codeFamilies := constStrings(t, "stats/drift", "Family")
	sameSet(t, "section 3, families (drift.Family*)", codeFamilies, firstTicks(families))

	metrics := map[string]bool{}
	literals := stringLiterals(t, "stats/drift")
	for _, r := range families {
		for _, m := range ticks(r[2]) {
			if !codeFamilies[m] { // "the metrics of `data`"
				metrics[m] = true
			}
		}
		for _, subj := range ticks(r[1]) {
			lit := subj
			if i := strings.Index(subj, "<"); i >= 0 {
				lit = subj[:i] // variant=<name>: the code writes "variant="+name
			}
			if lit != "" && !literals[lit] {
				t.Errorf("section 3: subject %q of family %s is no string the code writes (stats/drift)", subj, r[0])
			}
		}
	}
	sameSet(t, "section 3, metrics (drift.Metric*)", constStrings(t, "stats/drift", "Metric"), metrics)

	// threshold_source values.
	for _, r := range columns {
		if r[0] == "`threshold_source`" {
			values := map[string]bool{}
			for _, v := range ticks(r[2]) {
				if !strings.Contains(v, ".") { // not a config key
					values[v] = true
				}
			}
			sameSet(t, "section 3, threshold_source (drift.Source*)", constStrings(t, "stats/drift", "Source"), values)
		}
	}
}

// migrations returns the tables (and views) the ClickHouse migrations
// create, each with its columns in order.
func migrations(t *testing.T) map[string][]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "sinks/clickhouse/migrations/*.sql"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	create := regexp.MustCompile(`(?s)CREATE (TABLE|VIEW) IF NOT EXISTS (\w+)(?: \((.*?)\n\)| AS)`)
	column := regexp.MustCompile(`(?m)^\s+(\w+)\s`)
	alter := regexp.MustCompile(`ALTER TABLE (\w+) ADD COLUMN (?:\{\{ifNotExists\}\})?(\w+)`)
	// A migration that changes a table's key copies it into a new one,
	// renames that into place and drops the old one.
	rename := regexp.MustCompile(`RENAME TABLE ([^;]+);`)
	pair := regexp.MustCompile(`(\w+) TO (\w+)`)
	drop := regexp.MustCompile(`DROP TABLE (?:IF EXISTS )?(\w+);`)
	out := map[string][]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var sql strings.Builder
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				sql.WriteString(line + "\n")
			}
		}
		// Statement by statement, in order: a migration may drop a
		// table or view and create it again.
		for _, st := range strings.Split(sql.String(), ";") {
			st += ";"
			for _, m := range create.FindAllStringSubmatch(st, -1) {
				cols := []string{}
				for _, c := range column.FindAllStringSubmatch(m[3], -1) {
					cols = append(cols, c[1])
				}
				out[m[2]] = cols
			}
			for _, m := range alter.FindAllStringSubmatch(st, -1) {
				out[m[1]] = append(out[m[1]], m[2])
			}
			for _, m := range rename.FindAllStringSubmatch(st, -1) {
				for _, r := range pair.FindAllStringSubmatch(m[1], -1) {
					out[r[2]] = out[r[1]]
					delete(out, r[1])
				}
			}
			for _, m := range drop.FindAllStringSubmatch(st, -1) {
				delete(out, m[1])
			}
		}
	}
	return out
}

func TestClickHouseTables(t *testing.T) {
	s := contractSections(t)
	rows := table(t, s[5].body, "table")
	tables := migrations(t)
	sameSet(t, "section 5, tables (sinks/clickhouse/migrations)", set(slices.Collect(maps.Keys(tables))...), firstTicks(rows))
	rowCols := firstTicks(table(t, s[3].body, "column"))
	rowCols["inserted_at"] = true
	for _, r := range rows {
		name := ticks(r[0])[0]
		cols, ok := tables[name]
		if !ok || len(cols) == 0 {
			continue // a view
		}
		documented := set(ticks(withoutParens(r[2]))...)
		if name == "drift_metrics" {
			documented = rowCols // "the metric rows of section 3, plus inserted_at"
		}
		sameSet(t, "section 5, columns of "+name, set(cols...), documented)
	}
}

// withoutParens drops the parenthesized parts of s (examples and values
// beside the names).
func withoutParens(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestAlerts(t *testing.T) {
	s := contractSections(t)
	body := s[6].body

	rules := table(t, body, "alertname")
	code := alerts.DefaultRules()
	byName := map[string]alerts.Rule{}
	for _, r := range code {
		byName[r.Alert] = r
	}
	sameSet(t, "section 6, default alertnames (alerts.DefaultRules)", set(slices.Collect(maps.Keys(byName))...), firstTicks(rules))
	for _, row := range rules {
		r, ok := byName[ticks(row[0])[0]]
		if !ok {
			continue
		}
		if row[1] != string(r.Sev) {
			t.Errorf("section 6: %s has severity %s, the code %s", r.Alert, row[1], r.Sev)
		}
		forN, clearN := max(r.For, 1), r.Clear
		if clearN == 0 {
			clearN = 2
		}
		if got := leadingInt(row[3]); got != forN {
			t.Errorf("section 6: %s fires after %q, the code after %d windows", r.Alert, row[3], forN)
		}
		if got := leadingInt(row[4]); got != clearN {
			t.Errorf("section 6: %s resolves after %q, the code after %d windows", r.Alert, row[4], clearN)
		}
	}

	labels := map[string]bool{}
	for _, row := range table(t, body, "label") {
		if strings.HasPrefix(row[0], "`") {
			labels[ticks(row[0])[0]] = true
		}
	}
	ev := alerts.Event{Rule: code[0]}
	sameSet(t, "section 6, alert labels (alerts.Event.Labels)", set(slices.Collect(maps.Keys(ev.Labels()))...), labels)

	// The annotations Manager.alert sets: ann["x"] and the keys of its
	// map literal.
	src, err := os.ReadFile(filepath.Join(root, "alerts/manager.go"))
	if err != nil {
		t.Fatal(err)
	}
	fn := regexp.MustCompile(`(?s)\nfunc \(m \*Manager\) alert\(.*?\n}\n`).Find(src)
	if fn == nil {
		t.Fatal("no func (m *Manager) alert in alerts/manager.go")
	}
	ann := map[string]bool{}
	for _, m := range regexp.MustCompile(`ann\["(\w+)"\]|\n\s+"(\w+)":`).FindAllSubmatch(fn, -1) {
		ann[string(m[1])+string(m[2])] = true
	}
	sameSet(t, "section 6, annotations (alerts.Manager.alert)", ann, firstTicks(table(t, body, "annotation")))

	// Every Driftwatch* name the section gives is a default rule's alert or
	// a Prometheus rule's.
	prom, err := os.ReadFile(filepath.Join(root, "deploy/prometheus/driftwatch-rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`\bDriftwatch\w+`).FindAllString(body, -1) {
		if _, ok := byName[name]; !ok && !regexp.MustCompile(`alert:\s*`+name+`\b`).Match(prom) {
			t.Errorf("section 6 names %s, which is neither a default rule's alert nor one of deploy/prometheus/driftwatch-rules.yml", name)
		}
	}
}

func leadingInt(s string) int {
	n, _ := strconv.Atoi(strings.Fields(s + " x")[0])
	return n
}

func TestActions(t *testing.T) {
	s := contractSections(t)
	body := s[7].body
	goldens, err := filepath.Glob(filepath.Join(root, "alerts/actions/testdata/*.golden.json"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden action bodies: %v", err)
	}
	keys := map[string]bool{}
	for _, g := range goldens {
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		for k := range m {
			keys[k] = true
		}
	}
	sameSet(t, "section 7, action body fields (alerts/actions golden bodies)", keys, firstTicks(table(t, body, "field")))

	headers := firstTicks(table(t, body, "header"))
	delete(headers, "Content-Type") // set by net/http's caller, not a constant
	code := constStrings(t, "alerts/actions", "Header")
	sameSet(t, "section 7, webhook headers (actions.Header*)", code, headers)
	for k := range constStrings(t, "alerts/actions", "KafkaHeader") {
		if !strings.Contains(body, "`"+k+"`") {
			t.Errorf("section 7 does not name the Kafka header %s", k)
		}
	}
	for k := range constStrings(t, "alerts/actions", "Kind") {
		if !strings.Contains(body, "`"+k+"`") {
			t.Errorf("section 7 does not name the action %s", k)
		}
	}
}

// commandOf returns the command of a usage line: the words after
// "driftwatch" up to the first flag, placeholder or column gap.
func commandOf(line string) string {
	line, _, _ = strings.Cut(strings.TrimSpace(line), "  ")
	var words []string
	for _, w := range strings.Fields(line)[1:] {
		if strings.HasPrefix(w, "-") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "(") || strings.ToUpper(w) == w {
			break
		}
		words = append(words, w)
	}
	return strings.Join(words, " ")
}

func TestCommands(t *testing.T) {
	s := contractSections(t)
	var out, errOut bytes.Buffer
	if code := cli.Main(context.Background(), []string{"--help"}, &out, &errOut); code != 0 {
		t.Fatalf("driftwatch --help: exit %d: %s", code, errOut.String())
	}
	usage := map[string]bool{}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "driftwatch ") {
			usage[commandOf(strings.TrimSpace(line))] = true
		}
	}
	documented := map[string]bool{}
	for _, r := range table(t, s[8].body, "command") {
		documented[commandOf(ticks(r[0])[0])] = true
	}
	sameSet(t, "section 8, commands (driftwatch --help)", usage, documented)
}

// TestSectionReferences: every "CONTRACT.md section N" in the repository
// names a section CONTRACT.md has, about what the text around the
// reference is about: within contextBytes of it stands a word of the
// section's title (a reference to section 3, "Metric rows", speaks of
// metrics or rows).
func TestSectionReferences(t *testing.T) {
	const contextBytes = 160
	s := contractSections(t)
	stop := set("the", "and", "how", "exit", "code", "codes", "topic", "log", "contract", "changes")
	stems := map[int][]string{}
	for n, sec := range s {
		for _, w := range strings.Fields(strings.ToLower(sec.title)) {
			if !stop[w] {
				stems[n] = append(stems[n], strings.TrimSuffix(w, "s"))
			}
		}
	}
	ref := regexp.MustCompile(`CONTRACT\.md[\s/#*]*section[\s/#*]+(\d+)`)
	refs := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".go", ".md", ".yml", ".yaml", ".sql", ".sh", ".json":
		default:
			if filepath.Base(p) != "Makefile" {
				return nil
			}
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range ref.FindAllSubmatch(b, -1) {
			refs++
			n, _ := strconv.Atoi(string(m[1]))
			if _, ok := s[n]; !ok {
				t.Errorf("%s cites CONTRACT.md section %d; it has sections 1 to %d", p, n, len(s))
				continue
			}
			_ = m
		}
		for _, loc := range ref.FindAllSubmatchIndex(b, -1) {
			n, _ := strconv.Atoi(string(b[loc[2]:loc[3]]))
			if _, ok := s[n]; !ok {
				continue
			}
			around := strings.ToLower(string(b[max(loc[0]-contextBytes, 0):min(loc[1]+contextBytes, len(b))]))
			if !slices.ContainsFunc(stems[n], func(w string) bool { return strings.Contains(around, w) }) {
				line := bytes.Count(b[:loc[0]], []byte("\n")) + 1
				t.Errorf("%s:%d cites CONTRACT.md section %d (%s), but the text around it is about something else: %q",
					p, line, n, s[n].title, strings.Join(strings.Fields(string(b[max(loc[0]-60, 0):min(loc[1]+20, len(b))])), " "))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if refs == 0 {
		t.Fatal("no CONTRACT.md section references found: the pattern is wrong")
	}
}

// TestKServe: section 12's reason codes are consumer/kserve's, and the
// event types it names are the package's.
func TestKServe(t *testing.T) {
	s := contractSections(t)
	sameSet(t, "section 12, reason codes (kserve.Reason*)",
		constStrings(t, "consumer/kserve", "Reason"), firstTicks(table(t, s[12].body, "reason")))
	types := constStrings(t, "consumer/kserve", "Type")
	for typ := range types {
		if !strings.Contains(s[12].body, "`"+typ+"`") {
			t.Errorf("section 12 does not name the event type %s", typ)
		}
	}
}
