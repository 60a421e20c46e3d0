// Package deploy holds driftwatch's deployment files and has no Go API:
// driftwatch.yml (every configuration key with its default), alertmanager.yml
// (an example Prometheus Alertmanager configuration: routes by severity and
// inhibition), prometheus/driftwatch-rules.yml (Prometheus alerting rules
// for driftwatch's own health, with promtool unit tests beside them), the
// Grafana dashboard (grafana/), the Helm chart (helm/driftwatch) and the
// scripts that start the test servers (servers/), and image/buildah.sh,
// which builds the root Dockerfile with buildah (make image).
//
// Its tests keep the Alertmanager and Prometheus files honest: amtool
// checks both Alertmanager configurations and where each severity is routed;
// the test server's configuration (servers/alertmanager-test.yml) must carry
// the same inhibit rules as alertmanager.yml, and those rules are exercised
// on the real Alertmanager that deploy/servers/alertmanager.sh starts; the
// Prometheus rules must be well formed, carry a severity, and read only
// metrics driftwatch exports (internal/pipeline/metrics.go); promtool, which
// make test installs (servers/promtool.sh), checks and unit-tests the rules.
//
// The Helm chart (helm/driftwatch) is linted and rendered by helm's Go
// packages in helm_test.go, for several value sets; every manifest is
// decoded strictly into its Kubernetes type, the rendered driftwatch.yml is
// loaded with internal/config, and the probes, ports, secrets, volumes and
// security context are checked against it; driftwatch run, in process on
// the rendered file, answers the probes' paths. helm.sh/helm/v4 is a test
// dependency only: the driftwatch binary does not link it.
//
// TestStackFromServerScripts runs the Compose stack where no container
// runtime can: `driftwatch run` (in process) and a real Prometheus read
// compose/driftwatch.yml and prometheus/prometheus.yml as they are, with
// only the services' addresses moved to the test servers (and the
// baselines directory, topics, group and database to the test's own); a
// key it rewrites that is gone fails it. A stream that drifts partway
// must show up as verdicts in the API, in Prometheus and every query of
// the Prometheus dashboard, and as alerts in Alertmanager.
//
// TestImageWithBuildah builds the Dockerfile's image, unmodified, with buildah on
// local stand-ins of its base images and checks its configuration and
// `driftwatch version` in it; it is skipped where buildah is not installed.
//
// It deliberately does not test the receivers' integrations (PagerDuty,
// Slack): they need accounts, and their secrets are files this repository
// does not have.
package deploy
