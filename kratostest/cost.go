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
// What is expensive depends on the database behind Kratos: SQLiteCosts and
// PostgresCosts are the two measured profiles. The fake answers each in
// microseconds unless told otherwise. A zero field adds nothing.
type QueryCosts struct {
	// CredentialsIdentifier is added to every GET /admin/identities
	// filtered by credentials_identifier or
	// preview_credentials_identifier_similar.
	CredentialsIdentifier time.Duration
	// CredentialsIdentifierPerIdentity is added to the same lookups once
	// per identity stored: a lookup that scans the store, as Kratos on
	// SQLite does.
	CredentialsIdentifierPerIdentity time.Duration
	// ExternalID is added to every GET /admin/identities/by/external/{id}.
	ExternalID time.Duration
	// Page is added to every other GET /admin/identities (a page).
	Page time.Duration
	// BatchItem is added for every identity of a PATCH /admin/identities
	// (a real Kratos takes 1 ms to 7 ms an identity, about as long for one
	// that conflicts as for one it creates).
	BatchItem time.Duration
}

// SQLiteCosts is what a real Kratos v26.2.0 on SQLite charges, measured
// on a shared 2-core machine (see the SDK's README): a lookup by
// credentials_identifier scans the store (over 90 s with 10,000 identities
// stored, about 10 ms an identity), a page of 500 takes 0.05 s to 0.15 s,
// a lookup by external id 1 ms to 7 ms (an index), a batch 1 ms to 7 ms an
// identity. Scale it down for tests (QueryCosts.Scale).
func SQLiteCosts() QueryCosts {
	return QueryCosts{
		CredentialsIdentifierPerIdentity: 10 * time.Millisecond,
		ExternalID:                       3 * time.Millisecond,
		Page:                             100 * time.Millisecond,
		BatchItem:                        3 * time.Millisecond,
	}
}

// PostgresCosts is what a real Kratos v26.2.0 on PostgreSQL 15 charges,
// measured on the same machine with 100,000 identities stored: a lookup
// by credentials_identifier or by external id is an index read (2 ms to
// 12 ms, 5 ms typical), a page of 500 with credentials 0.07 s to 0.1 s
// (a walk of 100,000 takes 15 s to 17 s), a batch about 1.2 ms an
// identity.
func PostgresCosts() QueryCosts {
	return QueryCosts{
		CredentialsIdentifier: 5 * time.Millisecond,
		ExternalID:            5 * time.Millisecond,
		Page:                  80 * time.Millisecond,
		BatchItem:             1200 * time.Microsecond,
	}
}

// Scale returns the costs multiplied by f (a test's 0.1 keeps a profile's
// proportions at a tenth of its time).
func (c QueryCosts) Scale(f float64) QueryCosts {
	m := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
	return QueryCosts{
		CredentialsIdentifier:            m(c.CredentialsIdentifier),
		CredentialsIdentifierPerIdentity: m(c.CredentialsIdentifierPerIdentity),
		ExternalID:                       m(c.ExternalID),
		Page:                             m(c.Page),
		BatchItem:                        m(c.BatchItem),
	}
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
				if per := s.cfg.queryCost.CredentialsIdentifierPerIdentity; per > 0 {
					cost += per * time.Duration(s.IdentityCount())
				}
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
