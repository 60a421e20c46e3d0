-- detector_state: each model version's error-stream detectors (ADWIN,
-- Page-Hinkley, DDM) and what they signalled on its recent windows
-- (drift.DetectorState, binary), written in the commit of the rows they
-- produced and read back at start by LoadDetectorStates, so that a
-- restarted job goes on where the detectors were. One row per model
-- version: the newest (inserted_at) counts.
CREATE TABLE IF NOT EXISTS detector_state (
    model         {{lc "String"}},
    model_version {{lc "String"}},
    state         String{{codec "ZSTD(1)"}},
    inserted_at   UInt64{{codec "Delta, ZSTD(1)"}}
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (model, model_version)
{{dedupSettings}};
