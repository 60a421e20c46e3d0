// Package grafana holds driftwatch's Grafana dashboard (driftwatch.json)
// and the provisioning files that load it (provisioning/); it has no Go API.
//
// Its test keeps the dashboard honest: it collects every SQL query (panel
// targets and template variables), expands the Grafana variables and the
// ClickHouse data source plugin's macros that the queries use into concrete
// SQL, and runs each query against a real ClickHouse server whose tables
// were seeded through the sink (sinks/clickhouse). Every query must succeed,
// return the columns its panel reads and at least one row, and give the
// same answer when every row was written twice, as a retried commit leaves
// it until ClickHouse merges the parts.
//
// It deliberately does not run Grafana: panel rendering and the plugin's own
// handling of results (the long-to-wide conversion of time series) are not
// tested here.
package grafana
