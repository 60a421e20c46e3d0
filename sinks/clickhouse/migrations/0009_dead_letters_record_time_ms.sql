-- dead_letters keeps the record's Kafka timestamp as driftwatch read it, in
-- unix milliseconds, whatever it is (-1 is Kafka's "no timestamp"):
-- record_time holds it only when a DateTime can (1970-01-01 to
-- 2106-02-07), and the receive time otherwise. Rows written before keep
-- record_time's value. On servers that cannot say IF NOT EXISTS here,
-- migrate takes "column already exists" as done.
ALTER TABLE dead_letters ADD COLUMN {{ifNotExists}}record_time_ms Int64 DEFAULT toInt64(toUnixTimestamp(record_time)) * 1000;
