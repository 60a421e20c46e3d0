// Package deploy holds driftwatch's deployment files and has no Go API:
// driftwatch.yml (every configuration key with its default), alertmanager.yml
// (an example Prometheus Alertmanager configuration: routes by severity and
// inhibition), prometheus/driftwatch-rules.yml (Prometheus alerting rules
// for driftwatch's own health, with promtool unit tests beside them), the
// Grafana dashboard (grafana/) and the scripts that start the test servers
// (servers/).
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
// It deliberately does not test the receivers' integrations (PagerDuty,
// Slack): they need accounts, and their secrets are files this repository
// does not have.
package deploy
