"""driftwatch_client logs predictions and labels from Python model servers
to the Kafka topics driftwatch reads, in the wire format of CONTRACT.md
sections 1 and 2, checked with the rules the consumer applies, so that a
record it sends is never dead-lettered for its form.

    from driftwatch_client import Producer

    producer = Producer("kafka:9092")
    pid = producer.log_prediction("fraud", "1.4.2", {"amount": 120.5, "country": "DE"}, 0.87)
    producer.log_label("fraud", pid, 1)
    producer.close()

What it does not do: check what depends on driftwatch's state (a model
without a baseline is dead-lettered as no_baseline; a repeated prediction id
of the same variant is dropped by the consumer), create topics, or read anything back.
"""

from ._contract import (
    DEFAULT_MAX_RECORD_BYTES,
    ContractError,
    validate_label,
    validate_prediction,
)
from ._producer import Producer
from ._records import encode_label, encode_prediction

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "ContractError",
    "Producer",
    "encode_label",
    "encode_prediction",
    "validate_label",
    "validate_prediction",
]
