package codec

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/riferrei/srclient"
)

// backoff is an exponential backoff with full jitter between min and max.
type backoff struct {
	min, max time.Duration
}

func (b backoff) delay(attempt int) time.Duration {
	d := b.min
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	return d/2 + rand.N(d/2+1)
}

// retry calls op until it succeeds, returns an error that retryable rejects, or ctx ends. It
// returns the number of attempts and the last error.
func (b backoff) retry(ctx context.Context, op func() error) (int, error) {
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !retryable(err) {
			return attempt, err
		}
		t := time.NewTimer(b.delay(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return attempt, fmt.Errorf("%w (last error: %w)", context.Cause(ctx), err)
		case <-t.C:
		}
	}
}

// retryable reports whether a registry error may go away: everything but a 4xx answer
// (invalid or incompatible schema, unknown subject, unauthorised).
func retryable(err error) bool {
	var se srclient.Error
	if errors.As(err, &se) {
		status := se.Code
		if status >= 1000 { // Confluent error codes: HTTP status followed by two digits
			status /= 100
		}
		return status < http.StatusBadRequest || status >= http.StatusInternalServerError
	}
	return true
}

// notFound reports whether err is the registry saying that a schema or subject does not exist.
func notFound(err error) bool {
	var se srclient.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code == http.StatusNotFound || se.Code/100 == http.StatusNotFound
}
