package actions

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

const (
	bodyExcerpt = 512      // bytes of an error response kept in a StatusError
	bodyDrain   = 64 << 10 // bytes of a response read to reuse its connection
)

// StatusError is a webhook's answer other than 2xx.
type StatusError struct {
	URL  string // Config.WebhookURL
	ID   string // of the action posted
	Code int
	Body string // the start of the response body
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("post action %s to %s: status %d %s: %q", e.ID, e.URL, e.Code, http.StatusText(e.Code), e.Body)
}

// Permanent reports whether posting the same action again cannot succeed:
// a 3xx (redirects are not followed) or 4xx other than 408 (request
// timeout) and 429 (too many requests).
func (e *StatusError) Permanent() bool {
	return e.Code >= 300 && e.Code < 500 && e.Code != http.StatusRequestTimeout && e.Code != http.StatusTooManyRequests
}

// webhook posts signed actions to one URL.
type webhook struct {
	url     string
	secret  []byte
	client  *http.Client // does not follow redirects
	timeout time.Duration
	now     func() time.Time
}

func (w *webhook) name() string { return w.url }

// deliver posts e once, signed with the time of this attempt.
func (w *webhook) deliver(ctx context.Context, e *entry) error {
	ts := strconv.FormatInt(w.now().Unix(), 10)
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, w.url, bytes.NewReader(e.body))
	if err != nil {
		return &permanentError{fmt.Errorf("post action %s to %s: %w", e.action.ID, w.url, err)}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "driftwatch-actions/1")
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, sign(w.secret, ts, e.body))
	h.Set(HeaderDelivery, e.action.ID)
	h.Set(HeaderIdempotencyKey, e.action.ID)
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("post action %s: %w", e.action.ID, err) // *url.Error names the method and URL
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, bodyDrain))
		return nil
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, bodyExcerpt))
	io.Copy(io.Discard, io.LimitReader(resp.Body, bodyDrain))
	return &StatusError{URL: w.url, ID: e.action.ID, Code: resp.StatusCode, Body: string(bytes.TrimSpace(excerpt))}
}
