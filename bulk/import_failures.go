package bulk

import (
	"errors"
	"net/http"

	"github.com/kratosadmin/sdk/client"
)

// failureKind is what the importer does about a batch request that got no
// per-item answer.
type failureKind int

const (
	failItems      failureKind = iota // fail these items (an unexpected 4xx)
	failRun                           // every request would fail alike (401, 403, 404, 405): stop
	retrySame                         // not applied (429, 503, refused connection): wait, resend
	retryMaybe                        // maybe applied (502, 500, other 5xx): wait, resend
	splitRefused                      // refused as a whole, nothing applied (400, 413): split
	splitAmbiguous                    // answer lost, maybe applied (504, timeout, cut off): split
	conflictAll                       // 409 for the whole batch
	requestAborted                    // the request's context ended (cancellation grace over)
)

// batchRule decides the kind of a batch failure, or leaves it to the next
// rule (false).
type batchRule func(err error) (failureKind, bool)

// batchRules extend the client's one classification of failures
// (client.ClassifyFailure, which decides what is transient and whether the
// server may have acted) with what only a batch import decides: which
// answers fail the items, which stop the run, which are split to find the
// item at fault, and that a 5xx the client would not retry is sent again.
// A failure no rule decides (a 2xx answer that could not be read, a
// transport error the client does not retry) may have been applied:
// splitAmbiguous.
var batchRules = []batchRule{
	func(err error) (failureKind, bool) { return failItems, errors.Is(err, client.ErrInvalidArgument) },
	statusRule(conflictAll, http.StatusConflict),
	statusRule(splitRefused, http.StatusBadRequest, http.StatusRequestEntityTooLarge),
	statusRule(failRun, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed),
	byClientClass,
	func(err error) (failureKind, bool) {
		var apiErr *client.Error
		if !errors.As(err, &apiErr) {
			return 0, false
		}
		if apiErr.StatusCode >= 500 {
			return retryMaybe, true
		}
		return failItems, true
	},
}

// byClientClass is the client's classification of transient failures.
func byClientClass(err error) (failureKind, bool) {
	switch client.ClassifyFailure(err) {
	case client.FailureNotApplied:
		return retrySame, true
	case client.FailureBadGateway:
		return retryMaybe, true
	case client.FailureAnswerLost:
		return splitAmbiguous, true
	}
	return 0, false
}

// statusRule decides kind for answers with one of statuses.
func statusRule(kind failureKind, statuses ...int) batchRule {
	return func(err error) (failureKind, bool) {
		var apiErr *client.Error
		if !errors.As(err, &apiErr) {
			return 0, false
		}
		for _, s := range statuses {
			if apiErr.StatusCode == s {
				return kind, true
			}
		}
		return 0, false
	}
}

// classify is the kind of a batch failure, by the first rule that decides.
func classify(err error) failureKind {
	for _, rule := range batchRules {
		if kind, ok := rule(err); ok {
			return kind
		}
	}
	return splitAmbiguous
}
