package kserve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultHTTPTimeout bounds how long Handler waits for the broker to take
// an event before it answers 503.
const DefaultHTTPTimeout = 10 * time.Second

// Handler takes the logger's events over HTTP, for clusters where no
// KafkaSink sits between the logger and Kafka: the logger's url points at
// it. A request is one CloudEvent, POSTed in the HTTP binding's binary mode
// (ce- headers, the payload as body: what KServe's logger sends) or
// structured mode (Content-Type application/cloudevents+json). Handler
// writes it to Topic in the Kafka binding's binary mode, keyed by its id
// (Event.KafkaRecord), where the Converter reads it as it reads the
// KafkaSink's: the join, the mapping and the dead letters are the same,
// and any instance may take any event.
//
// It answers 200 once the broker has the event (KServe's logger counts
// anything else as a failure), 400 when the body is no CloudEvent, 405 to
// another method, 413 past MaxBytes, and 503 when the broker did not take
// it within Timeout. It does not authenticate: wrap it.
type Handler struct {
	Topic    string
	MaxBytes int64                                    // largest body taken; at most the topic's record size
	Produce  func(context.Context, *kgo.Record) error // synchronous: returns once the broker acknowledged
	Timeout  time.Duration                            // 0: DefaultHTTPTimeout
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(w, http.StatusMethodNotAllowed, errors.New("post CloudEvents here"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.MaxBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("an event larger than %d bytes (kafka.max_record_bytes)", h.MaxBytes))
			return
		}
		fail(w, http.StatusBadRequest, fmt.Errorf("read the event: %w", err))
		return
	}
	ev, err := FromHTTP(r.Header, body)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	if err := h.Produce(ctx, ev.KafkaRecord(h.Topic)); err != nil {
		w.Header().Set("Retry-After", "1")
		fail(w, http.StatusServiceUnavailable, fmt.Errorf("write the event to %s: %w", h.Topic, err))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// fail answers code with a JSON object {"error": ...}, as the API does.
func fail(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
