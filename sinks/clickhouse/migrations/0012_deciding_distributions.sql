-- Reports read a window's verdicts and what moved (issue 19):
-- drift_metrics gains deciding (CONTRACT.md section 3: 1 on the row of the
-- subject's deciding rule, 0 on the others and in rows written before),
-- and window_summaries gains distributions (the JSON array of
-- drift.Distribution: per judged feature and the prediction, the
-- reference's and the window's counts on the cells the distances use; ''
-- in rows written before). On servers that cannot say IF NOT EXISTS here,
-- migrate takes "column already exists" as done.
ALTER TABLE drift_metrics ADD COLUMN {{ifNotExists}}deciding UInt8 DEFAULT 0;
ALTER TABLE window_summaries ADD COLUMN {{ifNotExists}}distributions String DEFAULT ''{{codec "ZSTD(1)"}};

-- drift_metrics_latest is SELECT * FROM drift_metrics FINAL, but a view's
-- columns are fixed when it is created: it is created again to show
-- deciding. Run again, the statements redo the same.
DROP TABLE IF EXISTS drift_metrics_latest;
CREATE VIEW IF NOT EXISTS drift_metrics_latest AS
SELECT * FROM drift_metrics FINAL;
