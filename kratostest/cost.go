package kratostest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// QueryCosts make the requests that are expensive on a real Kratos cost
// time here too, so that a test sees a client that sends too many of them.
// On a real Kratos v26.2.0 with SQLite, a list filtered by
// credentials_identifier scans the store: 4.7 s to 12 s with 3,000
// identities stored, while a page of 500 identities costs about 0.05 s and
// a lookup by external id 0.03 s. The fake answers each in microseconds
// unless told otherwise. A zero field adds nothing.
type QueryCosts struct {
	// CredentialsIdentifier is added to every GET /admin/identities
	// filtered by credentials_identifier or
	// preview_credentials_identifier_similar.
	CredentialsIdentifier time.Duration
	// ExternalID is added to every GET /admin/identities/by/external/{id}.
	ExternalID time.Duration
	// Page is added to every other GET /admin/identities (a page).
	Page time.Duration
	// BatchItem is added for every identity of a PATCH /admin/identities
	// (a real Kratos on SQLite takes 1 ms to 7 ms an identity, about as
	// long for one that conflicts as for one it creates).
	BatchItem time.Duration
}

// WithQueryCost delays the requests named in c (see QueryCosts). The
// delay ends early when the request is cancelled. Server.QueryCounts
// counts these requests with or without this option.
func WithQueryCost(c QueryCosts) Option {
	return func(cfg *config) { cfg.queryCost = c }
}

// QueryCounts counts the admin requests of kinds QueryCosts knows, since
// the server started or was Reset.
type QueryCounts struct {
	// CredentialsIdentifier: lists filtered by credentials_identifier or
	// preview_credentials_identifier_similar.
	CredentialsIdentifier int64
	// ExternalID: GET /admin/identities/by/external/{id}.
	ExternalID int64
	// Pages: other GET /admin/identities.
	Pages int64
	// Batches: PATCH /admin/identities.
	Batches int64
}

// queryCounters are the live counts behind QueryCounts.
type queryCounters struct {
	credentialsIdentifier, externalID, pages, batches atomic.Int64
}

// QueryCounts returns the counts of expensive requests so far.
func (s *Server) QueryCounts() QueryCounts {
	return QueryCounts{
		CredentialsIdentifier: s.counts.credentialsIdentifier.Load(),
		ExternalID:            s.counts.externalID.Load(),
		Pages:                 s.counts.pages.Load(),
		Batches:               s.counts.batches.Load(),
	}
}

func (c *queryCounters) reset() {
	c.credentialsIdentifier.Store(0)
	c.externalID.Store(0)
	c.pages.Store(0)
	c.batches.Store(0)
}

// costing counts the admin requests QueryCounts knows and delays them by
// their QueryCosts.
func (s *Server) costing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cost time.Duration
		path := strings.TrimSuffix(r.URL.Path, "/")
		switch {
		case r.Method == http.MethodPatch && path == "/admin/identities":
			s.counts.batches.Add(1)
			if s.cfg.queryCost.BatchItem > 0 {
				cost = s.cfg.queryCost.BatchItem * time.Duration(batchItems(r))
			}
		case r.Method != http.MethodGet:
		case path == "/admin/identities":
			q := r.URL.Query()
			if q.Get("credentials_identifier") != "" || q.Get("preview_credentials_identifier_similar") != "" {
				s.counts.credentialsIdentifier.Add(1)
				cost = s.cfg.queryCost.CredentialsIdentifier
			} else {
				s.counts.pages.Add(1)
				cost = s.cfg.queryCost.Page
			}
		case strings.HasPrefix(path, "/admin/identities/by/external/"):
			s.counts.externalID.Add(1)
			cost = s.cfg.queryCost.ExternalID
		}
		if cost > 0 {
			t := time.NewTimer(cost)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
			}
		}
		next.ServeHTTP(w, r)
	})
}

// batchItems counts the identities of a batch request, leaving its body
// to be read again.
func batchItems(r *http.Request) int {
	b, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return 0
	}
	var req struct {
		Identities []json.RawMessage `json:"identities"`
	}
	if json.Unmarshal(b, &req) != nil {
		return 0
	}
	return len(req.Identities)
}
