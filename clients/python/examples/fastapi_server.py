"""A model server that logs every prediction, and its label when it comes,
to driftwatch. Run it with
    pip install ./clients/python fastapi uvicorn
    KAFKA_BROKERS=localhost:9092 uvicorn fastapi_server:app
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from driftwatch_client import Producer

Features = dict[str, float | str | bool | None]


def model(features: Features) -> float:  # stands in for yours
    return 0.9 if float(features.get("amount") or 0) > 1000 else 0.1


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # One Producer per worker process; closing it sends what it buffered.
    with Producer(os.environ.get("KAFKA_BROKERS", "localhost:9092")) as app.state.drift:
        yield


app = FastAPI(lifespan=lifespan)


@app.post("/predict")
def predict(features: Features) -> dict[str, object]:
    score = model(features)
    prediction_id = app.state.drift.log_prediction("fraud", "1.4.2", features, score)
    return {"prediction_id": prediction_id, "fraud": score}


@app.post("/label/{prediction_id}")
def label(prediction_id: str, fraud: bool) -> None:
    app.state.drift.log_label("fraud", prediction_id, fraud)
