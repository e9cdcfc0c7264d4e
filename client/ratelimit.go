package client

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimit is the rate-limit state a response reports in Ory Network's
// headers: x-ratelimit-remaining, the requests left in the current window,
// and x-ratelimit-reset, the whole seconds until that window resets (a
// count of seconds, not a time: Ory's docs, "Number of seconds until the
// rate limit window resets"). The count is truncated: a bucket whose window
// is under a second (the burst buckets) reports 0.
//
// A self-hosted Kratos sends neither header.
type RateLimit struct {
	// Remaining is the number of requests left in the window; -1 when the
	// response did not say. When the header lists several buckets, it is
	// the lowest.
	Remaining int
	// Reset is the time until the window resets, in whole seconds as sent;
	// -1 when the response did not say. When the headers list several
	// buckets, it is the longest reset among the buckets with the fewest
	// requests left (the ones that refuse the next request), or the
	// longest of all when the two headers do not pair up.
	Reset time.Duration
}

// Ory Network's rate-limit headers.
const (
	headerRateLimitRemaining = "X-Ratelimit-Remaining"
	headerRateLimitReset     = "X-Ratelimit-Reset"
)

// ParseRateLimit reads Ory Network's rate-limit headers. It reports false
// when the response has no usable value in either header. Values that are
// not non-negative integers are ignored; a huge reset saturates.
func ParseRateLimit(h http.Header) (RateLimit, bool) {
	remaining := headerInts(h.Values(headerRateLimitRemaining))
	resets := headerInts(h.Values(headerRateLimitReset))
	rl := RateLimit{Remaining: -1, Reset: -1}
	lowest := int64(-1)
	for _, v := range remaining {
		if v >= 0 && (lowest < 0 || v < lowest) {
			lowest = v
		}
	}
	if lowest >= 0 {
		rl.Remaining = int(min(lowest, int64(maxInt)))
	}
	paired := len(remaining) == len(resets)
	longest := int64(-1)
	for i, v := range resets {
		if v < 0 || (paired && lowest >= 0 && remaining[i] != lowest) {
			continue
		}
		longest = max(longest, v)
	}
	if longest >= 0 {
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		rl.Reset = time.Duration(min(longest, maxSecs)) * time.Second
	}
	return rl, rl.Remaining >= 0 || rl.Reset >= 0
}

const maxInt = int64(^uint(0) >> 1)

// headerInts splits header values on commas and reads each element as a
// non-negative integer; an element that is not one is -1, so positions
// still pair up across headers.
func headerInts(values []string) []int64 {
	var out []int64
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && !strings.HasPrefix(part, "-") {
					n = 1<<63 - 1
				} else {
					n = -1
				}
			}
			if n < 0 {
				n = -1
			}
			out = append(out, n)
		}
	}
	return out
}

// setWaitHints records what the response's headers say about waiting
// before the next request: Retry-After, and Ory Network's rate-limit
// state. The retry engine (internal/retry) decides with them, as
// failureOf hands them over.
func (e *Error) setWaitHints(h http.Header) {
	e.RetryAfter = parseRetryAfter(h.Get("Retry-After"), time.Now())
	if rl, ok := ParseRateLimit(h); ok {
		e.RateLimit = &rl
	}
}

// rateLimitReset is the reset the answer's rate-limit headers reported,
// -1 for none.
func (e *Error) rateLimitReset() time.Duration {
	if e.RateLimit == nil {
		return -1
	}
	return e.RateLimit.Reset
}
