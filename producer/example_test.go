package producer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/driftwatch/driftwatch/producer"
)

// score stands for the model.
func score(features map[string]any) float64 { return 0.87 }

// A service logs each prediction it serves. LogPrediction checks the
// record and queues it without waiting for Kafka: an error is a record
// that breaks the contract (the caller's bug) or, as ErrBufferFull, one
// dropped while Kafka is slow or down (counted in the metrics). Close
// flushes what waits.
func Example() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	reg := prometheus.NewRegistry()
	p, err := producer.New(producer.Config{Brokers: []string{"kafka:9092"}, Registerer: reg, Log: log})
	if err != nil {
		log.Error("start the prediction log", "err", err)
		return
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			log.Warn("close the prediction log", "err", err)
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /score", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var features map[string]any
		if err := json.NewDecoder(r.Body).Decode(&features); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s := score(features)
		err := p.LogPrediction(producer.Prediction{
			ID: producer.NewID(), Model: "fraud", ModelVersion: "1.4.2",
			Features: features, Prediction: s, Latency: time.Since(start),
		})
		if err != nil && !errors.Is(err, producer.ErrBufferFull) {
			log.Warn("prediction not logged", "err", err)
		}
		json.NewEncoder(w).Encode(map[string]float64{"score": s})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	log.Error("serve", "err", http.ListenAndServe(":8080", mux))
}

// A late label, once the truth is known, names the prediction it labels.
func ExampleProducer_LogLabel() {
	p, err := producer.New(producer.Config{Brokers: []string{"kafka:9092"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close(context.Background())
	err = p.LogLabel(producer.Label{PredictionID: "7d1e0c5a-61c4-4b43-9a55-5a8d3f0c2f10", Model: "fraud", Value: 1})
	if err != nil && !errors.Is(err, producer.ErrBufferFull) {
		fmt.Println("label not logged:", err)
	}
}
