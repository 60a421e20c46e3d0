package deploy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/driftwatch/driftwatch/internal/auth"
	"github.com/driftwatch/driftwatch/internal/cli"
	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/internal/synth"
)

// The Helm chart's checks run on helm's own Go packages, with nothing from
// the network: the chart is linted as helm lint --strict lints it, rendered
// for each value set below as helm template renders it, and every rendered
// manifest is decoded strictly into its Kubernetes type (an unknown field
// or a wrong type is an error): the schema validation kubeconform would do
// with schemas it downloads. The ServiceMonitor, a CRD, is decoded strictly
// into a struct of the fields the chart uses.

const (
	helmChartDir     = "helm/driftwatch"
	helmRelease      = "dw"
	helmNamespace    = "monitoring"
	helmConfigKey    = "driftwatch.yml"
	helmConfigPath   = "/etc/driftwatch/driftwatch.yml"
	helmPodName      = "dw-driftwatch-0"
	helmTemplatesDir = "driftwatch/templates/"
)

// helmValueSets are rendered and checked by TestHelmChart and linted by
// TestHelmLint, over the chart's values.yaml.
var helmValueSets = []struct {
	name   string
	values string
	// kinds the render must hold, besides ConfigMap, Service and the
	// workload.
	kinds []string
}{
	{
		// The defaults and the one value they lack: where the baselines are.
		name:   "defaults",
		values: `baselines: {persistence: {enabled: true}}`,
		kinds:  []string{"ServiceAccount", "PodDisruptionBudget", "PersistentVolumeClaim"},
	},
	{
		name: "everything",
		values: `
kind: StatefulSet
updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 0}}
image: {tag: "1.2.3"}
credentials:
  kafkaSaslPassword: {secretName: kafka-user, key: password}
  clickhousePassword: {secretName: clickhouse-user, key: password}
  webhookSecret: {secretName: retrain-webhook, key: hmac}
  httpTokens:
    - {name: grafana, role: viewer, secretName: driftwatch-tokens, secretKey: grafana}
    - {name: ci-bot, role: operator, secretName: driftwatch-tokens, secretKey: ci-bot}
extraEnv:
  - {name: TZ, value: UTC}
baselines:
  persistence: {enabled: true, size: 5Gi, storageClass: fast, accessModes: [ReadWriteMany]}
podDisruptionBudget: {enabled: true, minAvailable: "50%"}
autoscaling:
  enabled: true
  minReplicas: 2
  maxReplicas: 6
  cpu: {enabled: true, targetAverageUtilization: 80}
  consumerLag: {enabled: true, metricName: driftwatch_kafka_consumer_lag_records, targetAverageValue: "50000"}
serviceMonitor: {enabled: true, interval: 15s, labels: {release: kube-prometheus-stack}}
podAnnotations: {team: ml-platform}
nodeSelector: {pool: monitoring}
config:
  kafka:
    brokers: ["kafka-0.kafka:9093", "kafka-1.kafka:9093"]
    topic: fraud-predictions
    group: driftwatch-fraud
    tls: {enabled: true, ca_file: /etc/kafka-ca/ca.crt}
    sasl: {mechanism: SCRAM-SHA-512, username: driftwatch}
    scale_out: {enabled: true, flush_interval: 2s}
  sinks:
    clickhouse: {enabled: true, addr: ["clickhouse:9440"], database: drift, username: driftwatch, tls: {enabled: true}}
  alerts:
    alertmanager: {urls: ["http://alertmanager-0:9093", "http://alertmanager-1:9093"]}
    actions: {webhook_url: "https://retrain.example.com/hook"}
  windows: {size: 15m}
  http:
    listen: "0.0.0.0:9500"
    auth:
      # beside the chart's tokens, one the configuration holds as its hash
      tokens: [{name: break-glass, role: admin, token_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}]
      rate: 5
      burst: 10
      max_body_bytes: 65536
extraVolumes:
  - {name: kafka-ca, secret: {secretName: kafka-ca}}
extraVolumeMounts:
  - {name: kafka-ca, mountPath: /etc/kafka-ca, readOnly: true}
`,
		kinds: []string{"ServiceAccount", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ServiceMonitor", "PersistentVolumeClaim"},
	},
	{
		name: "deployment-scale-out-lag-only",
		values: `
replicaCount: 3
serviceAccount: {create: false}
podDisruptionBudget: {enabled: false}
baselines:
  persistence: {enabled: true, existingClaim: shared-baselines}
  readOnly: true
autoscaling:
  enabled: true
  cpu: {enabled: false}
  consumerLag: {enabled: true}
credentials:
  httpTokens: [{name: prometheus, role: viewer, secretName: scrape-token, secretKey: token}]
config:
  kafka: {scale_out: {enabled: true}}
  sinks: {clickhouse: {enabled: true}}
  http: {listen: "[::]:9464", auth: {protect_metrics: true}}
`,
		kinds: []string{"HorizontalPodAutoscaler"},
	},
	{
		name: "weekly-report",
		values: `
report:
  enabled: true
  models: [fraud, churn_v2]
  days: 14
baselines:
  volume: {configMap: {name: fraud-baselines}}
config:
  baselines: {dir: /baselines}
  sinks: {clickhouse: {enabled: true}}
`,
		kinds: []string{"ServiceAccount", "PodDisruptionBudget", "CronJob", "PersistentVolumeClaim"},
	},
	{
		name: "existing-baselines-volume",
		values: `
replicaCount: 2
updateStrategy: {type: Recreate}
baselines:
  volume: {configMap: {name: fraud-baselines}}
config:
  baselines: {dir: /baselines}
  sinks: {jsonl: {path: /data/rows.jsonl}}
`,
		kinds: []string{"ServiceAccount", "PodDisruptionBudget"},
	},
}

// TestHelmLint: helm lint --strict finds no error and no warning, with the
// chart's defaults and with each value set.
func TestHelmLint(t *testing.T) {
	sets := []struct{ name, values string }{{name: "values.yaml"}}
	for _, vs := range helmValueSets {
		sets = append(sets, struct{ name, values string }{vs.name, vs.values})
	}
	for _, vs := range sets {
		t.Run(vs.name, func(t *testing.T) {
			lint := action.NewLint()
			lint.Strict = true
			lint.Namespace = helmNamespace
			res := lint.Run([]string{helmChartDir}, helmValues(t, vs.values))
			for _, m := range res.Messages {
				if m.Severity > support.InfoSev {
					t.Errorf("helm lint: %s", m)
				}
			}
			for _, err := range res.Errors {
				t.Errorf("helm lint: %v", err)
			}
			if res.TotalChartsLinted != 1 {
				t.Errorf("helm lint linted %d charts, want 1", res.TotalChartsLinted)
			}
		})
	}
}

// TestHelmChart renders each value set and checks what driftwatch and
// Kubernetes need of the manifests.
func TestHelmChart(t *testing.T) {
	for _, vs := range helmValueSets {
		t.Run(vs.name, func(t *testing.T) {
			out, err := helmRender(t, helmValues(t, vs.values))
			if err != nil {
				t.Fatal(err)
			}
			m := decodeManifests(t, out)
			want := append([]string{"ConfigMap", "Service", m.workloadKind}, vs.kinds...)
			for _, kind := range want {
				if m.count[kind] != 1 {
					t.Errorf("%s: rendered %d, want 1", kind, m.count[kind])
				}
			}
			if len(m.count) != len(want) {
				t.Errorf("rendered kinds %v, want %v", m.count, want)
			}
			if m.workloadKind != "Deployment" && m.workloadKind != "StatefulSet" {
				t.Fatalf("no Deployment or StatefulSet rendered")
			}
			cfg, raw := checkHelmConfig(t, m)
			checkHelmSecrets(t, m, raw)
			checkHelmTokens(t, m, cfg, helmValues(t, vs.values))
			checkHelmPorts(t, m, cfg)
			checkHelmSecurity(t, m)
			checkHelmVolumes(t, m, cfg)
			checkHelmChecksum(t, m)
			checkHelmScaling(t, m, cfg)
			checkHelmReport(t, m)
		})
	}
}

// TestHelmConfigRollsPods: a change of driftwatch.yml changes the pod
// template (its checksum annotation), so the pods are replaced and read it.
func TestHelmConfigRollsPods(t *testing.T) {
	checksum := func(values string) string {
		out, err := helmRender(t, helmValues(t, values))
		if err != nil {
			t.Fatal(err)
		}
		return decodeManifests(t, out).pod.Annotations["checksum/config"]
	}
	base := helmValueSets[0].values
	a, b := checksum(base), checksum(base+"\nconfig: {windows: {size: 30m}}")
	if a == "" || a == b {
		t.Errorf("checksum/config %q before and %q after a config change: want two different ones", a, b)
	}
}

// TestHelmProbesServed runs driftwatch run in process on the driftwatch.yml
// the chart renders by default, with the chart's volumes at temporary
// directories, no broker to reach, and http.listen moved to a free loopback
// port: the liveness probe's path answers 200 (a pod waiting for Kafka is
// alive and must not be restarted), the readiness probe's 503 with the
// reason, the ServiceMonitor's /metrics 200, and an unknown path 404.
func TestHelmProbesServed(t *testing.T) {
	out, err := helmRender(t, helmValues(t, helmValueSets[0].values))
	if err != nil {
		t.Fatal(err)
	}
	m := decodeManifests(t, out)
	c := m.container(t)
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(m.configMap.Data[helmConfigKey]), &raw); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	section := func(key string) map[string]any {
		sub, _ := raw[key].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
			raw[key] = sub
		}
		return sub
	}
	baselinesDir, _ := section("baselines")["dir"].(string)
	jsonl, _ := section("sinks")["jsonl"].(map[string]any)
	jsonlPath, _ := jsonl["path"].(string)
	if mountAt(c.VolumeMounts, baselinesDir) == nil || mountAt(c.VolumeMounts, path.Dir(jsonlPath)) == nil {
		t.Fatalf("baselines.dir %q or the directory of sinks.jsonl.path %q is not mounted", baselinesDir, jsonlPath)
	}
	section("baselines")["dir"] = filepath.Join(dir, "baselines")
	jsonl["path"] = filepath.Join(dir, "data", path.Base(jsonlPath))
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	// run exits without a baseline: the claim holds one, built as the
	// README says.
	scen := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	var ref bytes.Buffer
	if err := scen.Reference(scen.Models[0].Name, 500, &ref); err != nil {
		t.Fatal(err)
	}
	refPath := filepath.Join(dir, "reference.jsonl")
	writeFile(t, refPath, ref.String())
	var baseErr bytes.Buffer
	if code := cli.Main(context.Background(), []string{"baseline", "--model", scen.Models[0].Name, "--input", refPath, "--out", filepath.Join(dir, "baselines")}, io.Discard, &baseErr); code != 0 {
		t.Fatalf("driftwatch baseline: exit %d\n%s", code, baseErr.String())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	section("http")["listen"] = addr
	section("kafka")["brokers"] = []string{"127.0.0.1:1"} // nothing listens there
	data, err := yaml.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, helmConfigKey)
	writeFile(t, file, string(data))

	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer // written by run; read once it returned
	done := make(chan int, 1)
	go func() { done <- cli.Main(ctx, []string{"run", "--config", file}, io.Discard, &stderr) }()
	exited := false
	defer func() {
		cancel()
		if exited {
			return
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("driftwatch run did not return within 30s of its context's end")
		}
	}()

	get := func(p string) (int, string, error) {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	// Wait for the server: run listens before it tries Kafka.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, _, err := get(c.LivenessProbe.HTTPGet.Path); err == nil {
			break
		}
		select {
		case code := <-done:
			exited = true
			t.Fatalf("driftwatch run exited %d before serving HTTP:\n%s", code, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("driftwatch run serves nothing on %s after 20s", addr)
		}
	}
	for _, tc := range []struct {
		what, path string
		code       int
	}{
		{"livenessProbe", c.LivenessProbe.HTTPGet.Path, http.StatusOK},
		{"readinessProbe", c.ReadinessProbe.HTTPGet.Path, http.StatusServiceUnavailable},
		{"metrics", "/metrics", http.StatusOK},
		{"an unknown path", "/no-such-path", http.StatusNotFound},
	} {
		code, body, err := get(tc.path)
		if err != nil || code != tc.code {
			t.Errorf("%s: GET %s: %d %v, want %d\n%s", tc.what, tc.path, code, err, tc.code, body)
		}
		if tc.code == http.StatusServiceUnavailable && !strings.Contains(body, "127.0.0.1:1") {
			t.Errorf("%s: GET %s says %q, want the unreachable broker named", tc.what, tc.path, body)
		}
	}
}

// TestHelmRenderFails: values that would deploy a driftwatch that cannot
// work, or put a secret in a ConfigMap, fail the render with a message
// naming the value.
func TestHelmRenderFails(t *testing.T) {
	for _, tc := range []struct{ values, want string }{
		{`config: {http: {listen: "127.0.0.1:9464"}}`, `config.http.listen: "127.0.0.1:9464" must be :PORT`},
		{`config: {http: {listen: ""}}`, `config.http.listen: "" must be :PORT`},
		{`config: {http: {listen: "9464"}}`, `config.http.listen: "9464" must be :PORT`},
		{`autoscaling: {enabled: true}`, "autoscaling.enabled needs config.kafka.scale_out.enabled"},
		{`{autoscaling: {enabled: true, cpu: {enabled: false}}, config: {kafka: {scale_out: {enabled: true}}}}`, "needs autoscaling.cpu.enabled or autoscaling.consumerLag.enabled"},
		{`config: {kafka: {sasl: {mechanism: PLAIN, username: u, password: hunter2}}}`, "config.kafka.sasl.password: a password in values"},
		{`config: {sinks: {clickhouse: {password: hunter2}}}`, "config.sinks.clickhouse.password: a password in values"},
		{`config: {baselines: {dir: baselines}}`, `config.baselines.dir: "baselines" must be an absolute path`},
		{`{credentials: {httpTokens: [{name: ci-bot, role: viewer, secretName: s, secretKey: a}, {name: ci_bot, role: viewer, secretName: s, secretKey: b}]}}`, `credentials.httpTokens[1]: "ci-bot" and "ci_bot" both become the variable DRIFTWATCH_HTTP_TOKEN_CI_BOT`},
		{`{credentials: {httpTokens: [{name: a, role: viewer, secretName: s, secretKey: k}]}, config: {http: {auth: {protect_probes: true}}}}`, "config.http.auth.protect_probes: the liveness and readiness probes are HTTP GETs, which carry no token"},
		{`{serviceMonitor: {enabled: true}, credentials: {httpTokens: [{name: a, role: viewer, secretName: s, secretKey: k}]}, config: {http: {auth: {protect_metrics: true}}}}`, "config.http.auth.protect_metrics: the ServiceMonitor scrapes /metrics without a token"},
		{`config: {kafka: {instance_id: x, scale_out: {enabled: true}}, sinks: {clickhouse: {enabled: true}}}`, "config.kafka.instance_id: under scale-out the chart sets kafka.instance_id_env"},
		{`config: {kafka: {instance_id_env: HOSTNAME, scale_out: {enabled: true}}, sinks: {clickhouse: {enabled: true}}}`, "config.kafka.instance_id_env: under scale-out the chart sets"},
		// values.schema.json: the chart's own keys are closed and typed.
		{`kind: DaemonSet`, `at '/kind': value must be one of 'Deployment', 'StatefulSet'`},
		{`serviceMonitor: {enable: true}`, `at '/serviceMonitor': additional properties 'enable' not allowed`},
		{`replicaCount: "2"`, `at '/replicaCount': got string, want integer`},
		{`podDisruptionBudget: {maxUnavailable: "one"}`, `at '/podDisruptionBudget/maxUnavailable'`},
		{`credentials: {webhookSecret: {secretName: s, key: ""}}`, `credentials: the secret "s" needs a key`},
		{`credentials: {httpTokens: [{name: a, role: viewer, secretName: s}]}`, `at '/credentials/httpTokens/0': missing property 'secretKey'`},
		{`credentials: {httpTokens: [{name: a, role: root, secretName: s, secretKey: k}]}`, `at '/credentials/httpTokens/0/role': value must be one of 'viewer', 'operator', 'admin'`},
		{`baselines: {persistence: {enabled: false}}`, "baselines: set baselines.persistence.enabled (a claim holding baselines) or baselines.volume"},
		{`report: {enabled: true, models: [fraud]}`, "report.enabled: the weekly report reads ClickHouse"},
		{`{report: {enabled: true}, config: {sinks: {clickhouse: {enabled: true}}}}`, "report.models: name the models to report on"},
	} {
		// Each over the defaults set, which has a baselines volume.
		vals := loader.MergeMaps(helmValues(t, helmValueSets[0].values), helmValues(t, tc.values))
		_, err := helmRender(t, vals)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("values %s: render error %v, want one containing %q", tc.values, err, tc.want)
		}
	}
}

// TestHelmNotInBinary: helm and the Kubernetes API types are test
// dependencies of this package only; the driftwatch binary links neither.
func TestHelmNotInBinary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/driftwatch/driftwatch/cmd/driftwatch").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for pkg := range strings.Lines(string(out)) {
		if strings.HasPrefix(pkg, "helm.sh/") || strings.HasPrefix(pkg, "k8s.io/") || strings.HasPrefix(pkg, "sigs.k8s.io/") {
			t.Errorf("cmd/driftwatch depends on %s", strings.TrimSpace(pkg))
		}
	}
}

// helmValues parses a value set (YAML) as helm's -f does.
func helmValues(t *testing.T, values string) map[string]any {
	t.Helper()
	v, err := loader.LoadValues(strings.NewReader(values))
	if err != nil {
		t.Fatalf("values: %v\n%s", err, values)
	}
	return v
}

// helmRender renders the chart as helm template does (install of release
// dw in namespace monitoring, default capabilities), with the engine in
// strict mode: a template reading a value values.yaml lacks is an error.
func helmRender(t *testing.T, vals map[string]any) (map[string]string, error) {
	t.Helper()
	ch, err := loader.Load(helmChartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	opts := common.ReleaseOptions{Name: helmRelease, Namespace: helmNamespace, Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, opts, common.DefaultCapabilities.Copy(), false)
	if err != nil {
		return nil, fmt.Errorf("render values: %w", err)
	}
	return engine.Engine{Strict: true}.RenderWithContext(context.Background(), ch, rv)
}

// helmManifests are the decoded objects of one render.
type helmManifests struct {
	count          map[string]int
	configMap      *corev1.ConfigMap
	service        *corev1.Service
	serviceAccount *corev1.ServiceAccount
	pdb            *policyv1.PodDisruptionBudget
	hpa            *autoscalingv2.HorizontalPodAutoscaler
	pvc            *corev1.PersistentVolumeClaim
	serviceMonitor *serviceMonitor
	cronJob        *batchv1.CronJob
	reportsPVC     *corev1.PersistentVolumeClaim

	workloadKind string
	workloadName string
	replicas     *int32
	selector     *metav1.LabelSelector
	pod          corev1.PodTemplateSpec
	configFile   string // the rendered configmap.yaml, as the checksum reads it
}

// serviceMonitor holds the fields of monitoring.coreos.com/v1 ServiceMonitor
// the chart sets; decoding strictly into it rejects any other.
type serviceMonitor struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// helmScheme knows the API groups the chart renders.
func helmScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, autoscalingv2.AddToScheme, policyv1.AddToScheme, batchv1.AddToScheme} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// decodeManifests decodes every document of every rendered template
// strictly: unknown and duplicate fields and wrong types are errors.
func decodeManifests(t *testing.T, out map[string]string) *helmManifests {
	t.Helper()
	decoder := serializer.NewCodecFactory(helmScheme(t), serializer.EnableStrict).UniversalDeserializer()
	m := &helmManifests{count: map[string]int{}}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if path.Ext(name) != ".yaml" {
			continue // NOTES.txt, _helpers.tpl
		}
		if name == helmTemplatesDir+"configmap.yaml" {
			m.configFile = out[name]
		}
		r := k8syaml.NewYAMLReader(bufio.NewReader(strings.NewReader(out[name])))
		for i := 0; ; i++ {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: document %d: %v", name, i, err)
			}
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue
			}
			var meta metav1.TypeMeta
			if err := sigsyaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s: document %d: %v\n%s", name, i, err, doc)
			}
			m.count[meta.Kind]++
			if meta.APIVersion == "monitoring.coreos.com/v1" && meta.Kind == "ServiceMonitor" {
				var sm serviceMonitor
				if err := sigsyaml.UnmarshalStrict(doc, &sm); err != nil {
					t.Fatalf("%s: ServiceMonitor: %v\n%s", name, err, doc)
				}
				m.serviceMonitor = &sm
				continue
			}
			obj, gvk, err := decoder.Decode(doc, nil, nil)
			if err != nil {
				t.Fatalf("%s: decode %s strictly: %v\n%s", name, meta.Kind, err, doc)
			}
			if gvk.GroupVersion().String() != meta.APIVersion {
				t.Fatalf("%s: decoded as %s, apiVersion %s", name, gvk, meta.APIVersion)
			}
			switch o := obj.(type) {
			case *corev1.ConfigMap:
				m.configMap = o
			case *corev1.Service:
				m.service = o
			case *corev1.ServiceAccount:
				m.serviceAccount = o
			case *corev1.PersistentVolumeClaim:
				if strings.HasSuffix(o.Name, "-reports") {
					m.reportsPVC = o // the weekly report's archive
				} else {
					m.pvc = o
				}
			case *policyv1.PodDisruptionBudget:
				m.pdb = o
			case *autoscalingv2.HorizontalPodAutoscaler:
				m.hpa = o
			case *batchv1.CronJob:
				m.cronJob = o
			case *appsv1.Deployment:
				m.workloadKind, m.workloadName, m.replicas, m.selector, m.pod = "Deployment", o.Name, o.Spec.Replicas, o.Spec.Selector, o.Spec.Template
			case *appsv1.StatefulSet:
				m.workloadKind, m.workloadName, m.replicas, m.selector, m.pod = "StatefulSet", o.Name, o.Spec.Replicas, o.Spec.Selector, o.Spec.Template
				if o.Spec.ServiceName != m.workloadName {
					t.Errorf("StatefulSet serviceName %q, want the Service %q", o.Spec.ServiceName, m.workloadName)
				}
			default:
				t.Fatalf("%s: unexpected kind %s", name, gvk)
			}
		}
	}
	return m
}

// checkHelmReport: the weekly report's CronJob runs `driftwatch report`
// with flags the command has, for each model, reading the chart's
// driftwatch.yml and writing into the claim the chart makes.
func checkHelmReport(t *testing.T, m *helmManifests) {
	t.Helper()
	if m.cronJob == nil {
		return
	}
	var help, errOut bytes.Buffer
	cli.Main(context.Background(), []string{"report", "-h"}, &help, &errOut)
	pod := m.cronJob.Spec.JobTemplate.Spec.Template.Spec
	var models []string
	for _, c := range pod.Containers {
		if len(c.Args) == 0 || c.Args[0] != "report" {
			t.Errorf("CronJob container %s runs %v, want driftwatch report", c.Name, c.Args)
			continue
		}
		for i, a := range c.Args {
			if strings.HasPrefix(a, "--") && !strings.Contains(help.String(), "\n  -"+strings.TrimPrefix(a, "--")+" ") {
				t.Errorf("CronJob container %s: driftwatch report has no flag %s", c.Name, a)
			}
			if a == "--model" {
				models = append(models, c.Args[i+1])
			}
		}
		if !slices.ContainsFunc(c.VolumeMounts, func(v corev1.VolumeMount) bool { return v.Name == "config" && v.MountPath == "/etc/driftwatch" }) {
			t.Errorf("CronJob container %s does not mount driftwatch.yml at /etc/driftwatch", c.Name)
		}
	}
	if !slices.Equal(models, []string{"fraud", "churn_v2"}) {
		t.Errorf("CronJob reports on %v, want fraud and churn_v2", models)
	}
	for _, v := range pod.Volumes {
		switch v.Name {
		case "config":
			if v.ConfigMap == nil || v.ConfigMap.Name != m.configMap.Name {
				t.Errorf("CronJob config volume %+v, want the ConfigMap %s", v, m.configMap.Name)
			}
		case "reports":
			if v.PersistentVolumeClaim == nil || m.reportsPVC == nil || v.PersistentVolumeClaim.ClaimName != m.reportsPVC.Name {
				t.Errorf("CronJob reports volume %+v, want the chart's claim", v)
			}
		}
	}
}

// stripComments drops YAML comment lines, so that a document of comments
// only counts as empty.
func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for line := range bytes.Lines(doc) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			b.Write(line)
		}
	}
	return b.Bytes()
}

// container returns the driftwatch container.
func (m *helmManifests) container(t *testing.T) *corev1.Container {
	t.Helper()
	for i := range m.pod.Spec.Containers {
		if c := &m.pod.Spec.Containers[i]; c.Name == "driftwatch" {
			return c
		}
	}
	t.Fatalf("no container named driftwatch in %v", m.pod.Spec.Containers)
	return nil
}

// checkHelmConfig: the container runs driftwatch run on the ConfigMap's
// driftwatch.yml, mounted as is, and driftwatch's own loader accepts that
// file (strictly: every key rendered is one it knows) in the environment
// the kubelet gives the container (helmEnv). Under scale-out the instance
// id is the pod name; otherwise there is none. It returns the loaded config
// and the file as a YAML tree.
func checkHelmConfig(t *testing.T, m *helmManifests) (*config.Config, map[string]any) {
	t.Helper()
	c := m.container(t)
	if want := []string{"run", "--config", helmConfigPath}; !slices.Equal(c.Args, want) || len(c.Command) != 0 {
		t.Errorf("container command %q args %q, want the image's entrypoint with args %q", c.Command, c.Args, want)
	}
	text, ok := m.configMap.Data[helmConfigKey]
	if !ok {
		t.Fatalf("ConfigMap has no %s: %v", helmConfigKey, m.configMap.Data)
	}
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatalf("%s: %v", helmConfigKey, err)
	}
	mount := mountAt(c.VolumeMounts, path.Dir(helmConfigPath))
	if mount == nil {
		t.Fatalf("nothing mounted at %s", path.Dir(helmConfigPath))
	}
	if vol := volumeNamed(m.pod.Spec.Volumes, mount.Name); vol == nil || vol.ConfigMap == nil || vol.ConfigMap.Name != m.configMap.Name {
		t.Fatalf("%s is mounted from volume %+v, want the ConfigMap %s", mount.MountPath, vol, m.configMap.Name)
	}
	file := filepath.Join(t.TempDir(), helmConfigKey)
	writeFile(t, file, text)
	for name, v := range helmEnv(t, c) {
		t.Setenv(name, v)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("driftwatch rejects the rendered %s: %v\n%s", helmConfigKey, err, text)
	}
	want := ""
	if cfg.Kafka.ScaleOut.Enabled {
		want = helmPodName
	}
	if cfg.Kafka.InstanceID != want {
		t.Errorf("kafka.instance_id %q (scale-out %v), want %q", cfg.Kafka.InstanceID, cfg.Kafka.ScaleOut.Enabled, want)
	}
	return cfg, raw
}

// helmEnv returns the environment the kubelet gives container c: the
// values set, the pod's name for the downward API's metadata.name, and for
// a Secret's key a stand-in, helmSecretValue.
func helmEnv(t *testing.T, c *corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("env %s is set twice: the last one wins", e.Name)
		}
		if !envName.MatchString(e.Name) {
			t.Errorf("env %q: not a name a shell can read", e.Name)
		}
		switch ref := e.ValueFrom; {
		case ref == nil:
			env[e.Name] = e.Value
		case ref.FieldRef != nil && ref.FieldRef.FieldPath == "metadata.name":
			env[e.Name] = helmPodName
		case ref.SecretKeyRef != nil:
			env[e.Name] = helmSecretValue(ref.SecretKeyRef.Name, ref.SecretKeyRef.Key)
		default:
			t.Fatalf("env %s: a source this test does not emulate: %+v", e.Name, ref)
		}
	}
	return env
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// helmSecretValue stands in for the value of a Secret's key.
func helmSecretValue(secret, key string) string { return "secret " + secret + "/" + key }

// checkHelmSecrets: every *_env key of driftwatch.yml but
// kafka.instance_id_env (the pod name, checked by checkHelmConfig) names an
// environment variable of the container set from a Secret, and no password
// is in the ConfigMap.
func checkHelmSecrets(t *testing.T, m *helmManifests, raw map[string]any) {
	t.Helper()
	c := m.container(t)
	envKeys := map[string]string{}
	walkYAML("", raw, func(key string, v any) {
		s, _ := v.(string)
		switch {
		case key == "kafka.instance_id_env":
		case strings.HasSuffix(key, "_env") && s != "":
			envKeys[key] = s
		case strings.HasSuffix(key, ".password") && s != "":
			t.Errorf("%s: a password in the ConfigMap", key)
		}
	})
	for key, name := range envKeys {
		i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
		if i < 0 {
			t.Errorf("%s names %s, which the container's environment does not set", key, name)
			continue
		}
		ref := c.Env[i].ValueFrom
		if c.Env[i].Value != "" || ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name == "" || ref.SecretKeyRef.Key == "" {
			t.Errorf("%s names %s, which is not set from a Secret's key: %+v", key, name, c.Env[i])
		}
	}
	// The secrets the chart was given are all used.
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && !slices.Contains(mapValues(envKeys), e.Name) {
			t.Errorf("env %s from Secret %s is named by no *_env key of driftwatch.yml", e.Name, e.ValueFrom.SecretKeyRef.Name)
		}
	}
}

// checkHelmTokens: http.auth of the loaded config is values'
// config.http.auth over the defaults, its tokens followed by one per
// credentials.httpTokens entry, with that entry's name and role and a
// token_env the container sets from the entry's Secret key; and
// driftwatch's token guard accepts them in that environment.
func checkHelmTokens(t *testing.T, m *helmManifests, cfg *config.Config, values map[string]any) {
	t.Helper()
	var chart struct {
		Credentials struct {
			HTTPTokens []struct{ Name, Role, SecretName, SecretKey string } `json:"httpTokens"`
		} `json:"credentials"`
		Config struct {
			HTTP struct {
				Auth any `json:"auth"`
			} `json:"http"`
		} `json:"config"`
	}
	fromValues, err := sigsyaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	if err := sigsyaml.Unmarshal(fromValues, &chart); err != nil {
		t.Fatalf("values: %v", err)
	}
	want := config.Default().HTTP.Auth
	if a := chart.Config.HTTP.Auth; a != nil {
		b, err := yaml.Marshal(a)
		if err == nil {
			err = yaml.Unmarshal(b, &want)
		}
		if err != nil {
			t.Fatalf("values' config.http.auth: %v", err)
		}
	}
	got := cfg.HTTP.Auth
	n := len(want.Tokens)
	if len(got.Tokens) != n+len(chart.Credentials.HTTPTokens) {
		t.Fatalf("http.auth.tokens %+v: want the %d of config.http.auth and the %d of credentials.httpTokens", got.Tokens, n, len(chart.Credentials.HTTPTokens))
	}
	env := helmEnv(t, m.container(t))
	for i, v := range chart.Credentials.HTTPTokens {
		tk := got.Tokens[n+i]
		if secret, ok := env[tk.TokenEnv]; !ok || secret != helmSecretValue(v.SecretName, v.SecretKey) {
			t.Errorf("http.auth.tokens[%d] (%s): token_env %q is %q in the container, want Secret %s's key %s", n+i, tk.Name, tk.TokenEnv, secret, v.SecretName, v.SecretKey)
		}
		want.Tokens = append(want.Tokens, config.HTTPToken{Name: v.Name, Role: v.Role, TokenEnv: tk.TokenEnv})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("http.auth:\n got %+v\nwant %+v", got, want)
	}
	ac := auth.Config{Rate: got.Rate, Burst: got.Burst, MaxBodyBytes: got.MaxBodyBytes}
	for _, tk := range got.Tokens {
		ac.Tokens = append(ac.Tokens, auth.TokenSource{Name: tk.Name, Role: tk.Role, Env: tk.TokenEnv, File: tk.TokenFile, SHA256: tk.TokenSHA256})
	}
	if _, err := auth.New(ac, func(k string) string { return env[k] }, nil); err != nil {
		t.Errorf("driftwatch's token guard refuses http.auth in the container's environment: %v", err)
	}
}

// walkYAML calls f with the dotted path of every leaf.
func walkYAML(prefix string, v any, f func(string, any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			walkYAML(p, sub, f)
		}
	case []any:
		for i, sub := range v {
			walkYAML(prefix+"["+strconv.Itoa(i)+"]", sub, f)
		}
	default:
		f(prefix, v)
	}
}

func mapValues(m map[string]string) []string {
	vs := make([]string, 0, len(m))
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}

// checkHelmPorts: the container port, the probes (GET /healthz and
// /readyz), the Service and the ServiceMonitor all reach the port of
// http.listen, and the selectors select the pods.
func checkHelmPorts(t *testing.T, m *helmManifests, cfg *config.Config) {
	t.Helper()
	c := m.container(t)
	i := strings.LastIndex(cfg.HTTP.Listen, ":")
	listen, err := strconv.Atoi(cfg.HTTP.Listen[i+1:])
	if i < 0 || err != nil {
		t.Fatalf("http.listen %q has no port", cfg.HTTP.Listen)
	}
	if host := cfg.HTTP.Listen[:i]; host != "" && host != "0.0.0.0" && host != "[::]" {
		t.Errorf("http.listen %q: not every interface, the kubelet cannot reach it", cfg.HTTP.Listen)
	}
	resolve := func(what string, p intstr.IntOrString) {
		t.Helper()
		port := p.IntValue()
		if p.Type == intstr.String {
			j := slices.IndexFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.StrVal })
			if j < 0 {
				t.Errorf("%s: port %q is no container port", what, p.StrVal)
				return
			}
			port = int(c.Ports[j].ContainerPort)
		}
		if port != listen {
			t.Errorf("%s: port %s is %d, driftwatch listens on %d (http.listen %q)", what, p.String(), port, listen, cfg.HTTP.Listen)
		}
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"livenessProbe", c.LivenessProbe, "/healthz"}, {"readinessProbe", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: not an HTTP GET probe", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s: path %q, want %q", p.name, p.probe.HTTPGet.Path, p.path)
		}
		resolve(p.name, p.probe.HTTPGet.Port)
	}
	podLabels := labels.Set(m.pod.Labels)
	if sel, err := metav1.LabelSelectorAsSelector(m.selector); err != nil || !sel.Matches(podLabels) {
		t.Errorf("%s selector %v does not select its pods' labels %v (%v)", m.workloadKind, m.selector, podLabels, err)
	}
	svc := m.service
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, podLabels)
	}
	j := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == "http" })
	if j < 0 {
		t.Fatalf("Service has no port named http: %v", svc.Spec.Ports)
	}
	resolve("Service port http", svc.Spec.Ports[j].TargetPort)
	if sm := m.serviceMonitor; sm != nil {
		if sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector); err != nil || !sel.Matches(labels.Set(svc.Labels)) {
			t.Errorf("ServiceMonitor selector %v does not select the Service %v (%v)", sm.Spec.Selector, svc.Labels, err)
		}
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http" || sm.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("ServiceMonitor endpoints %+v, want one: port http, path /metrics", sm.Spec.Endpoints)
		}
		if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{helmNamespace}) {
			t.Errorf("ServiceMonitor namespaces %v, want the release's %s", sm.Spec.NamespaceSelector.MatchNames, helmNamespace)
		}
	}
	if m.pdb != nil {
		if sel, err := metav1.LabelSelectorAsSelector(m.pdb.Spec.Selector); err != nil || !sel.Matches(podLabels) {
			t.Errorf("PodDisruptionBudget selector %v does not select the pods %v (%v)", m.pdb.Spec.Selector, podLabels, err)
		}
		if (m.pdb.Spec.MinAvailable == nil) == (m.pdb.Spec.MaxUnavailable == nil) {
			t.Errorf("PodDisruptionBudget: want exactly one of minAvailable and maxUnavailable, got %v and %v", m.pdb.Spec.MinAvailable, m.pdb.Spec.MaxUnavailable)
		}
	}
}

// checkHelmSecurity: every container runs as non-root, on a read-only root
// filesystem, without privilege escalation or capabilities, under the
// runtime's default seccomp profile.
func checkHelmSecurity(t *testing.T, m *helmManifests) {
	t.Helper()
	psc := m.pod.Spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	for _, c := range slices.Concat(m.pod.Spec.InitContainers, m.pod.Spec.Containers) {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("container %s: no securityContext", c.Name)
			continue
		}
		nonRoot := sc.RunAsNonRoot
		if nonRoot == nil {
			nonRoot = psc.RunAsNonRoot
		}
		user := sc.RunAsUser
		if user == nil {
			user = psc.RunAsUser
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = psc.SeccompProfile
		}
		switch {
		case nonRoot == nil || !*nonRoot:
			t.Errorf("container %s: runAsNonRoot is not true", c.Name)
		case user != nil && *user == 0:
			t.Errorf("container %s: runAsUser 0", c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("container %s: readOnlyRootFilesystem is not true", c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || (sc.Privileged != nil && *sc.Privileged) {
			t.Errorf("container %s: privilege escalation not forbidden", c.Name)
		}
		if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
			t.Errorf("container %s: capabilities %+v, want drop [ALL] and no add", c.Name, sc.Capabilities)
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("container %s: seccomp profile %+v, want RuntimeDefault", c.Name, seccomp)
		}
	}
}

// checkHelmVolumes: what driftwatch writes or reads lies on a volume (the
// root filesystem is read-only): baselines.dir on the baselines volume (the
// chart's PVC, the existing claim or volume named in values),
// sinks.jsonl.path's directory, /tmp.
func checkHelmVolumes(t *testing.T, m *helmManifests, cfg *config.Config) {
	t.Helper()
	c := m.container(t)
	for _, p := range []struct{ what, dir string }{
		{"baselines.dir", cfg.Baselines.Dir},
		{"sinks.jsonl.path", path.Dir(cfg.Sinks.JSONL.Path)},
		{"TMPDIR", "/tmp"},
	} {
		vm := mountAt(c.VolumeMounts, p.dir)
		if vm == nil {
			t.Errorf("%s: nothing mounted at %s", p.what, p.dir)
			continue
		}
		if volumeNamed(m.pod.Spec.Volumes, vm.Name) == nil {
			t.Errorf("%s: mount of unknown volume %s", p.what, vm.Name)
		}
		if p.what == "sinks.jsonl.path" && vm.ReadOnly {
			t.Errorf("%s: mounted read-only", p.what)
		}
	}
	if vm := mountAt(c.VolumeMounts, cfg.Baselines.Dir); vm != nil {
		v := volumeNamed(m.pod.Spec.Volumes, vm.Name)
		switch {
		case m.pvc != nil && (v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != m.pvc.Name):
			t.Errorf("baselines volume %+v, want the chart's claim %s", v.VolumeSource, m.pvc.Name)
		case m.pvc == nil && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == m.workloadName+"-baselines":
			t.Errorf("baselines volume is the chart's claim, which is not rendered")
		}
	}
	for _, vm := range c.VolumeMounts {
		if volumeNamed(m.pod.Spec.Volumes, vm.Name) == nil {
			t.Errorf("mount %s of unknown volume", vm.Name)
		}
	}
}

// checkHelmChecksum: the pod template's checksum/config is the SHA-256 of
// the rendered ConfigMap.
func checkHelmChecksum(t *testing.T, m *helmManifests) {
	t.Helper()
	want := fmt.Sprintf("%x", sha256.Sum256([]byte(m.configFile)))
	if got := m.pod.Annotations["checksum/config"]; got != want {
		t.Errorf("checksum/config %q, want the rendered ConfigMap's %q", got, want)
	}
}

// checkHelmScaling: the HorizontalPodAutoscaler scales the workload, only
// with scale-out, and its external metric is the consumer lag of
// driftwatch's group on its topic.
func checkHelmScaling(t *testing.T, m *helmManifests, cfg *config.Config) {
	t.Helper()
	if m.hpa == nil {
		if m.replicas == nil {
			t.Errorf("no HorizontalPodAutoscaler and no replicas")
		} else if *m.replicas > 1 && !cfg.Kafka.ScaleOut.Enabled {
			t.Logf("%d replicas without scale-out: one reads, the others stand by", *m.replicas)
		}
		return
	}
	if !cfg.Kafka.ScaleOut.Enabled {
		t.Errorf("a HorizontalPodAutoscaler without kafka.scale_out.enabled adds instances that only stand by")
	}
	if m.replicas != nil {
		t.Errorf("%s sets replicas %d beside the HorizontalPodAutoscaler: each upgrade resets its scale", m.workloadKind, *m.replicas)
	}
	ref := m.hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != m.workloadKind || ref.Name != m.workloadName {
		t.Errorf("HPA scales %+v, want apps/v1 %s %s", ref, m.workloadKind, m.workloadName)
	}
	if m.hpa.Spec.MinReplicas == nil || *m.hpa.Spec.MinReplicas < 1 || *m.hpa.Spec.MinReplicas > m.hpa.Spec.MaxReplicas {
		t.Errorf("HPA replicas %v to %d", m.hpa.Spec.MinReplicas, m.hpa.Spec.MaxReplicas)
	}
	if len(m.hpa.Spec.Metrics) == 0 {
		t.Errorf("HPA has no metric")
	}
	for _, metric := range m.hpa.Spec.Metrics {
		switch metric.Type {
		case autoscalingv2.ResourceMetricSourceType:
			r := metric.Resource
			if r.Name != corev1.ResourceCPU || r.Target.Type != autoscalingv2.UtilizationMetricType || r.Target.AverageUtilization == nil {
				t.Errorf("HPA resource metric %+v, want CPU utilization", r)
			}
			if _, ok := m.container(t).Resources.Requests[corev1.ResourceCPU]; !ok {
				t.Errorf("HPA on CPU utilization, but the container requests no CPU")
			}
		case autoscalingv2.ExternalMetricSourceType:
			e := metric.External
			want := map[string]string{"group": cfg.Kafka.Group, "topic": cfg.Kafka.Topic}
			if e.Metric.Name != "driftwatch_kafka_consumer_lag_records" || e.Metric.Selector == nil || !maps.Equal(e.Metric.Selector.MatchLabels, want) {
				t.Errorf("HPA external metric %s %v, want driftwatch_kafka_consumer_lag_records %v", e.Metric.Name, e.Metric.Selector, want)
			}
			if e.Target.Type != autoscalingv2.AverageValueMetricType || e.Target.AverageValue == nil || e.Target.AverageValue.Sign() <= 0 {
				t.Errorf("HPA external target %+v, want a positive AverageValue (lag per replica)", e.Target)
			}
		default:
			t.Errorf("HPA metric type %s", metric.Type)
		}
	}
}

func mountAt(mounts []corev1.VolumeMount, dir string) *corev1.VolumeMount {
	for i := range mounts {
		if path.Clean(mounts[i].MountPath) == path.Clean(dir) {
			return &mounts[i]
		}
	}
	return nil
}

func volumeNamed(vols []corev1.Volume, name string) *corev1.Volume {
	for i := range vols {
		if vols[i].Name == name {
			return &vols[i]
		}
	}
	return nil
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHelmReadmeValues renders the values file of README.md's "Step by
// step, on Kubernetes", so that what a platform engineer copies installs.
func TestHelmReadmeValues(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const start = "# driftwatch-values.yaml\n"
	i := strings.Index(string(readme), start)
	if i < 0 {
		t.Fatal("README.md has no driftwatch-values.yaml block")
	}
	block := string(readme[i:])
	block = block[:strings.Index(block, "```")]
	var lines []string
	for l := range strings.SplitSeq(block, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "   ")) // the list item's indent
	}
	values := strings.Join(lines, "\n")
	out, err := helmRender(t, helmValues(t, values))
	if err != nil {
		t.Fatal(err)
	}
	m := decodeManifests(t, out)
	for _, kind := range []string{"Deployment", "Service", "ConfigMap", "ServiceMonitor", "PersistentVolumeClaim"} {
		if m.count[kind] != 1 {
			t.Errorf("%s: rendered %d, want 1", kind, m.count[kind])
		}
	}
	// The configuration driftwatch gets loads, with the tokens from their
	// Secrets.
	cfg, _ := checkHelmConfig(t, m)
	checkHelmTokens(t, m, cfg, helmValues(t, values))
	if !cfg.Sinks.ClickHouse.Enabled || len(cfg.Alerts.Alertmanager.URLs) != 1 {
		t.Errorf("the rendered config lost the README's ClickHouse or Alertmanager: %+v %+v", cfg.Sinks.ClickHouse, cfg.Alerts.Alertmanager)
	}
}
