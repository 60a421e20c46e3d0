#!/usr/bin/env python3
"""Run the newest server generation's DDL on a current ClickHouse engine.

The integration tests run on Debian bookworm's ClickHouse 18.16, which gets
the oldest DDL variant. This script checks the other end: it takes the
schema rendered for current servers (testdata/golden/schema-24.8.4.sql,
which TestSchemaGolden keeps equal to what Open runs there), applies it in
chdb (ClickHouse in-process, from PyPI) beside the older variants, and replays what the sink does: an
insert, a retried insert with the same insert_deduplication_token (dropped),
a retry with recomputed values (kept, then collapsed by FINAL), and the
queries Committed, LoadLabelJoin and readers use.

    python3 -m venv .venv-chdb && .venv-chdb/bin/pip install -r sinks/clickhouse/testdata/requirements-chdb.txt
    .venv-chdb/bin/python sinks/clickhouse/testdata/chdb_check.py

It checks SQL only: chdb has no native-protocol server, so clickhouse-go's
side (DateTime64 and LowCardinality columns in PrepareBatch, settings sent
as strings) is not exercised here.
"""

import os
import sys
import tempfile

from chdb import session

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "golden", "schema-24.8.4.sql")
# The older variants must load on a current server too (a database created on
# 18.16 or 20.3 whose server was upgraded keeps them).
OLDER = [os.path.join(HERE, "golden", f"schema-{v}.sql") for v in ("18.16.1", "20.3.1")]

# The column list the sink's PrepareBatch names (metricColumns in clickhouse.go).
COLUMNS = (
    "model, model_version, window_start, window_end, family, subject, metric, value, p_value, "
    "threshold, drifted, severity, n_current, n_reference, baseline_id, threshold_source, mde, inserted_at"
)


def statements(path):
    lines = [l for l in open(path, encoding="utf-8") if l.strip() and not l.lstrip().startswith("--")]
    return [s.strip() for s in "".join(lines).split(";") if s.strip()]


def rows(psi, version):
    w = "'2026-11-23 02:00:00.000', '2026-11-23 03:00:00.000'"
    common = "4000, 100000, 'fraud-20261120-abc', 'static'"
    return ", ".join([
        f"('fraud', '1.4.2', {w}, 'data', 'amount', 'psi', {psi}, NULL, 0.2, 0, '', {common}, 0.07, {version})",
        f"('fraud', '1.4.2', {w}, 'data', 'amount', 'ks', 0.04, 0.003, 0.05, 0, '', {common}, NULL, {version})",
        f"('fraud', '1.4.2', {w}, 'data', 'country', 'jensen_shannon', 0.31, NULL, 0.1, 1, 'SEV-3', {common}, NULL, {version})",
    ])


def main():
    failures = []

    def check(name, got, want):
        ok = got == want
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {got!r}" + ("" if ok else f" (want {want!r})"))
        if not ok:
            failures.append(name)

    with tempfile.TemporaryDirectory() as tmp:
        s = session.Session(tmp)
        q = lambda sql: s.query(sql, "TSVRaw").bytes().decode().strip()
        print("chdb engine", q("SELECT version()"))
        for i, path in enumerate(OLDER):
            q(f"CREATE DATABASE older{i}")
            for st in statements(path):
                q(st.replace("CREATE TABLE IF NOT EXISTS ", f"CREATE TABLE IF NOT EXISTS older{i}.")
                    .replace("CREATE VIEW IF NOT EXISTS ", f"CREATE VIEW IF NOT EXISTS older{i}.")
                    .replace("ALTER TABLE ", f"ALTER TABLE older{i}.")
                    .replace(" FROM drift_metrics FINAL", f" FROM older{i}.drift_metrics FINAL"))
            check(os.path.basename(path) + " tables", q(f"SELECT count() FROM system.tables WHERE database = 'older{i}'"), "9")
            check(os.path.basename(path) + " label_state", q(f"SELECT type, default_expression FROM system.columns WHERE database = 'older{i}' AND table = 'window_summaries' AND name = 'label_state'"),
                  "String\t''")
        q("CREATE DATABASE dwcheck")
        q("USE dwcheck")
        stmts = statements(SCHEMA)
        for st in stmts:
            q(st)
        for st in stmts:  # IF NOT EXISTS: a second run changes nothing
            q(st)
        check("tables", q("SELECT groupArray(name) FROM (SELECT name FROM system.tables WHERE database = 'dwcheck' ORDER BY name)"),
              "['alert_history','baselines','dead_letters','detector_state','drift_metrics','drift_metrics_latest','labels','prediction_keys','window_summaries']")
        check("window_start type", q("SELECT type FROM system.columns WHERE database = 'dwcheck' AND table = 'drift_metrics' AND name = 'window_start'"),
              "DateTime64(3, 'UTC')")
        check("model type", q("SELECT type FROM system.columns WHERE database = 'dwcheck' AND table = 'drift_metrics' AND name = 'model'"),
              "LowCardinality(String)")
        check("dead_letters TTL", "TTL toDateTime(record_time) + toIntervalDay(90)" in q("SELECT create_table_query FROM system.tables WHERE database = 'dwcheck' AND name = 'dead_letters'"), True)

        ins = f"INSERT INTO drift_metrics ({COLUMNS}) SETTINGS insert_deduplication_token = '%s' VALUES %s"
        q(ins % ("tok-a", rows(0.25, 1)))
        q(ins % ("tok-a", rows(0.25, 2)))  # a retry of the same rows: same token, dropped
        check("raw rows after a token-deduplicated retry", q("SELECT count() FROM drift_metrics"), "3")
        q(ins % ("tok-b", rows(0.27, 3)))  # recomputed rows: new token, new version
        check("raw rows after a recomputed retry", q("SELECT count() FROM drift_metrics"), "6")
        check("FINAL", q("SELECT count(), sum(value) FROM drift_metrics FINAL"), "3\t0.62")
        check("drift_metrics_latest", q("SELECT subject, metric, value FROM drift_metrics_latest ORDER BY subject, metric FORMAT CSV"),
              '"amount","ks",0.04\n"amount","psi",0.27\n"country","jensen_shannon",0.31')
        check("argMax", q("SELECT argMax(value, inserted_at) FROM drift_metrics WHERE metric = 'psi' GROUP BY model, model_version, window_start, family, subject, metric"), "0.27")
        check("nullable p_value and mde", q("SELECT p_value, mde FROM drift_metrics FINAL WHERE metric = 'psi'"), "\\N\t0.07")
        summary = ("INSERT INTO window_summaries (model, model_version, window_start, window_end, baseline_id, records, subjects, "
                   "drifted_subjects, max_severity, closed_at, inserted_at) VALUES "
                   "('fraud', '1.4.2', '2026-11-23 02:00:00', '2026-11-23 03:00:00', 'b1', 1000, 2, ['amount'], 'SEV-3', '2026-11-23 03:10:00', %d)")
        q(summary % 1)
        q(summary % 2)  # the window written again (a retried commit)
        check("Committed query", q("SELECT model, model_version, max(window_end) FROM window_summaries GROUP BY model, model_version"),
              "fraud\t1.4.2\t2026-11-23 03:00:00.000")
        check("window_summaries FINAL", q("SELECT count(), sum(records) FROM window_summaries FINAL"), "1\t1000")
        dead = ("INSERT INTO dead_letters (topic, kafka_partition, kafka_offset, record_time, received_at, dead_letter_topic, reason, "
                "model, size_bytes, excerpt, inserted_at) VALUES ('predictions', 2, 41, now(), now(), 'predictions.dlq', 'not_json', '', 1, '{', %d)")
        q(dead % 1)
        q(dead % 2)
        check("dead_letters FINAL", q("SELECT count() FROM dead_letters FINAL"), "1")

        # The late-label join (labeljoin.go): label bases in
        # window_summaries.label_state, prediction_keys and labels, and the
        # queries LoadLabelJoin runs.
        check("prediction_keys TTL", "TTL toDateTime(intDiv(event_time_ms, 1000)) + toIntervalDay(90)" in q("SELECT create_table_query FROM system.tables WHERE database = 'dwcheck' AND name = 'prediction_keys'"), True)
        check("labels label_time type", q("SELECT type FROM system.columns WHERE database = 'dwcheck' AND table = 'labels' AND name = 'label_time'"),
              "DateTime64(3, 'UTC')")
        summary_state = ("INSERT INTO window_summaries (model, model_version, window_start, window_end, baseline_id, records, subjects, "
                         "drifted_subjects, max_severity, closed_at, label_state, inserted_at) VALUES "
                         "('fraud', '1.4.2', '2026-11-23 03:00:00', '2026-11-23 04:00:00', 'b1', 10, 0, [], '', '2026-11-23 04:10:00', unhex('%s'), %d)")
        q(summary_state % ("01ff00", 3))
        q(summary_state % ("01ff01", 4))  # written again: the newest label base wins
        check("newest window end", q("SELECT count(), max(window_end) FROM window_summaries"), "4\t2026-11-23 04:00:00.000")
        check("label bases after cutoff, FINAL", q("SELECT hex(label_state) FROM window_summaries FINAL WHERE window_end > toDateTime64('2026-11-23 03:00:00.000', 3, 'UTC') ORDER BY window_start"),
              "01FF01")
        keys = ("INSERT INTO prediction_keys (model, model_version, id, event_time_ms, prediction, decided, selected, inline, segments, inserted_at) "
                "SETTINGS insert_deduplication_token = '%s' VALUES "
                "('fraud', '1.4.2', 18446744073709551615, 1795400103120, nan, 1, 0, 0, 'gender=f', %d), "
                "('fraud', '1.4.2', 7, 1795400000000, 0.87, 1, 1, 0, '', %d)")
        q(keys % ("keys-a", 1, 1))
        q(keys % ("keys-a", 2, 2))  # an identical retry: dropped
        q(keys % ("keys-b", 3, 3))  # written again: collapsed by FINAL
        check("prediction_keys raw", q("SELECT count() FROM prediction_keys"), "4")
        check("prediction_keys FINAL from cutoff", q("SELECT id, event_time_ms, isNaN(prediction), decided, selected, inline, segments FROM prediction_keys FINAL WHERE event_time_ms >= 1795400000001 FORMAT CSV"),
              '18446744073709551615,1795400103120,1,1,0,0,"gender=f"')
        check("prediction_keys partition", q("SELECT DISTINCT partition FROM system.parts WHERE database = 'dwcheck' AND table = 'prediction_keys' AND active"), "202611")
        labels = ("INSERT INTO labels (model, prediction_id, label_time, label_time_ms, label, label_kind, received_at, inserted_at) VALUES "
                  "('fraud', '7d1e0c5a', '2026-11-27 08:00:00.250', 1795766400250, '%s', 'number', now64(3), %d)")
        q(labels % ("1", 1))
        q(labels % ("0", 2))  # a corrected label
        q("INSERT INTO labels (model, prediction_id, label_time, label_time_ms, label, label_kind, received_at, inserted_at) VALUES "
          "('fraud', 'old', '2026-10-01 00:00:00', 1790812800000, 'true', 'bool', now64(3), 1)")
        check("labels FINAL from cutoff", q("SELECT prediction_id, label_time, label_time_ms, label, label_kind, inserted_at FROM labels FINAL WHERE label_time >= toDateTime64('2026-11-20 00:00:00.000', 3, 'UTC')"),
              "7d1e0c5a\t2026-11-27 08:00:00.250\t1795766400250\t0\tnumber\t2")
        q("OPTIMIZE TABLE drift_metrics FINAL")
        check("rows after OPTIMIZE FINAL", q("SELECT count() FROM drift_metrics"), "3")
        s.close()

    print("chdb check:", "FAILED " + ", ".join(failures) if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
