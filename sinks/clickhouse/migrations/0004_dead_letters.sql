-- dead_letters: an audit of records sent to the dead-letter topic, one row
-- per source record (topic, partition, offset), with the reason and a
-- bounded excerpt of the record. The record itself stays in the dead-letter
-- topic; on servers with TTL the audit keeps 90 days (by the record's Kafka
-- timestamp, which is stable across retries, unlike received_at).
CREATE TABLE IF NOT EXISTS dead_letters (
    topic             {{lc "String"}},
    kafka_partition   Int32,
    kafka_offset      Int64,
    record_time       {{time}},
    received_at       {{time}},
    dead_letter_topic {{lc "String"}},
    reason            {{lc "String"}},
    model             {{lc "String"}},
    size_bytes        UInt32,
    excerpt           String{{codec "ZSTD(1)"}},
    inserted_at       UInt64{{codec "Delta, ZSTD(1)"}}
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(record_time)
ORDER BY (topic, kafka_partition, kafka_offset)
{{ttl "record_time" 90}}
{{dedupSettings}};
