package kserve

import (
	"container/list"
	"errors"
	"fmt"
	"time"

	"github.com/driftwatch/driftwatch/consumer"
)

// Outcome is what became of one or two events: Records, made from a
// joined request (Sources[0]) and response (Sources[1]); or, when Reason
// is set, a dead letter of each of Sources with Reason and Detail.
type Outcome[S any] struct {
	Sources        []S
	Records        []Record
	Reason, Detail string
}

// Adapter joins each request event to its response by InferenceService,
// component and id, and maps each pair through its InferenceService's
// Mapping. An event waits for its pair at most the join timeout, measured
// on the clock the caller passes (from the event's arrival, not its time
// attribute), and at most maxPending events wait: past either, the oldest
// is dead-lettered as ReasonUnmatched. S is what the caller keeps of an
// event's origin (a Kafka record), handed back in Outcomes. An Adapter is
// not safe for concurrent use.
type Adapter[S any] struct {
	models     map[string]*Mapping
	timeout    time.Duration
	maxPending int
	pending    map[joinKey]*list.Element // of *waiting
	order      *list.List                // of *waiting, oldest first
}

type joinKey struct{ service, component, id string }

type waiting[S any] struct {
	key      joinKey
	ev       Event
	src      S
	deadline time.Time
}

// NewAdapter returns an Adapter for the InferenceServices of models (by
// name, each valid), with the join timeout and the bound on waiting events
// (both positive).
func NewAdapter[S any](models map[string]Mapping, timeout time.Duration, maxPending int) *Adapter[S] {
	a := &Adapter[S]{models: make(map[string]*Mapping, len(models)), timeout: timeout, maxPending: maxPending,
		pending: make(map[joinKey]*list.Element), order: list.New()}
	for name, m := range models {
		a.models[name] = &m
	}
	return a
}

// Add takes one event that arrived at now, from src, and returns what
// became of it and of any event it evicted: nothing while it waits for its
// pair; the pair's records once joined; dead letters for an event that is
// no KServe inference event, of an InferenceService without a mapping, a
// repeated request (or response) of an id that waits, or a pair its
// mapping cannot read. The event's Data must stay unchanged while it waits.
func (a *Adapter[S]) Add(ev Event, src S, now time.Time) []Outcome[S] {
	dead := func(reason, format string, args ...any) []Outcome[S] {
		return []Outcome[S]{{Sources: []S{src}, Reason: reason, Detail: fmt.Sprintf(format, args...)}}
	}
	typ := ev.Type()
	if typ != TypeRequest && typ != TypeResponse {
		return dead(ReasonNotInference, "type %q is neither %s nor %s", typ, TypeRequest, TypeResponse)
	}
	service := ev.Attrs["inferenceservicename"]
	if service == "" {
		return dead(ReasonNotInference, "no inferenceservicename extension (ce_inferenceservicename)")
	}
	m := a.models[service]
	if m == nil {
		return dead(ReasonUnknownModel, "InferenceService %q has no kserve.models entry", service)
	}
	key := joinKey{service, ev.Attrs["component"], ev.ID()}
	if el, ok := a.pending[key]; ok {
		w := el.Value.(*waiting[S])
		if w.ev.Type() == typ {
			return dead(ReasonDuplicate, "a second %s event with id %q while the first waits for its pair", shortType(typ), key.id)
		}
		a.remove(el)
		req, resp, srcs := &w.ev, &ev, []S{w.src, src}
		if typ == TypeRequest {
			req, resp, srcs = &ev, &w.ev, []S{src, w.src}
		}
		recs, err := m.Records(req, resp, now)
		if err != nil {
			detail := err.Error()
			if derr := (*consumer.DecodeError)(nil); errors.As(err, &derr) {
				detail = derr.Detail
			}
			return []Outcome[S]{{Sources: srcs, Reason: ReasonUnmappable, Detail: detail}}
		}
		return []Outcome[S]{{Sources: srcs, Records: recs}}
	}
	var out []Outcome[S]
	if a.order.Len() >= a.maxPending {
		w := a.order.Front().Value.(*waiting[S])
		a.remove(a.order.Front())
		out = append(out, Outcome[S]{Sources: []S{w.src}, Reason: ReasonUnmatched,
			Detail: fmt.Sprintf("%s event with id %q evicted unmatched: %d events waited for their pair (kserve.max_pending)", shortType(w.ev.Type()), w.key.id, a.maxPending)})
	}
	a.pending[key] = a.order.PushBack(&waiting[S]{key: key, ev: ev, src: src, deadline: now.Add(a.timeout)})
	return out
}

// Expire dead-letters, as ReasonUnmatched, the events that have waited for
// their pair past the join timeout at now, oldest first.
func (a *Adapter[S]) Expire(now time.Time) []Outcome[S] {
	var out []Outcome[S]
	for el := a.order.Front(); el != nil; el = a.order.Front() {
		w := el.Value.(*waiting[S])
		if now.Before(w.deadline) {
			break
		}
		a.remove(el)
		other := "response"
		if w.ev.Type() == TypeResponse {
			other = "request"
		}
		out = append(out, Outcome[S]{Sources: []S{w.src}, Reason: ReasonUnmatched,
			Detail: fmt.Sprintf("%s event with id %q: no %s within kserve.join_timeout (%s)", shortType(w.ev.Type()), w.key.id, other, a.timeout)})
	}
	return out
}

// Next returns when the oldest waiting event expires; ok is false when
// none waits.
func (a *Adapter[S]) Next() (at time.Time, ok bool) {
	if el := a.order.Front(); el != nil {
		return el.Value.(*waiting[S]).deadline, true
	}
	return time.Time{}, false
}

// Pending returns how many events wait for their pair.
func (a *Adapter[S]) Pending() int { return a.order.Len() }

// Reset forgets every waiting event, without an outcome: their origins
// are to be read again (the partitions were revoked).
func (a *Adapter[S]) Reset() {
	clear(a.pending)
	a.order.Init()
}

func (a *Adapter[S]) remove(el *list.Element) {
	delete(a.pending, el.Value.(*waiting[S]).key)
	a.order.Remove(el)
}

// shortType names an event type in details: "request" or "response".
func shortType(typ string) string {
	if typ == TypeResponse {
		return "response"
	}
	return "request"
}
