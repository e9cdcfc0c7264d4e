// Package client is a Go client for the Ory Kratos identity-admin API:
// identities and their credentials, sessions, recovery codes and links,
// and identity schemas.
//
// Create one client and share it; it is safe for concurrent use:
//
//	c, err := client.New("http://127.0.0.1:4434")                 // self-hosted admin port
//	c, err := client.New("https://PROJECT.projects.oryapis.com",   // Ory Network
//		client.WithBearerToken(os.Getenv("ORY_API_KEY")))
//
// Every method takes a context first and returns a typed result:
//
//	identity, err := c.Identities.Get(ctx, id, nil)
//	switch {
//	case errors.Is(err, client.ErrNotFound): // 404
//	case err != nil:
//		var apiErr *client.Error
//		if errors.As(err, &apiErr) { log.Print(apiErr.Reason) }
//	}
//
// Lists come as iterators that walk every page, and as page calls that
// return a token to resume from:
//
//	for identity, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 500}) {
//		if err != nil { return err }
//		...
//	}
//
// Every typed method, page call and iterator takes per-call options last
// (CallOption): the raw response, a timeout, retries and headers for that
// call alone:
//
//	var resp *http.Response
//	identity, err := c.Identities.Get(ctx, id, nil,
//		client.WithResponseInto(&resp), client.WithMaxRetries(0))
//	fmt.Println(resp.StatusCode, resp.Header.Get("X-Request-Id"))
//
// Bulk import and export (batches, JSON Lines, reports, resume) are in
// package github.com/kratosadmin/sdk/bulk, built on this package's API.
//
// # Paging flaws of Kratos
//
// Kratos v26.2.0 pages two of its four lists wrongly; the client corrects
// both, so every List iterator yields each item exactly once whatever the
// page size, and NextPageToken always leads to the page that follows
// (TestPagingExactlyOnceRealServer in kratostest checks it on a real
// server, and the fake reproduces both flaws so make test does too):
//
//   - listIdentitySessions (Identities.ListSessions), "off by one page":
//     the server reads the page number of page_token (its offset divided
//     by page_size) as 1-based, page 0 and page 1 both being the first,
//     but writes its Link header 0-based. Followed as sent, the next link
//     of the first page returns the first page again and the last page is
//     never linked to: with PageSize 1 the newest session comes twice and
//     the oldest never. The client computes the next token itself from the
//     page it asked for and X-Total-Count. The deprecated Page and PerPage
//     are sent as given (counted from 1 by the server).
//   - listIdentitySchemas (Schemas.List), "overlong pages": page p holds
//     up to (p+1)*page_size schemas starting at p*page_size, overlapping
//     the pages after it; the links are right. The client keeps the first
//     page_size schemas of each page.
//
// listIdentities and listSessions page by keyset and are exact.
//
// # Errors
//
// A non-2xx answer is an *Error carrying the HTTP status and the server's
// error object; errors.Is matches ErrNotFound, ErrConflict, ErrBadRequest,
// ErrUnauthorized, ErrForbidden, ErrRateLimited and ErrServerError by HTTP
// status (Kratos sometimes puts a different code in the body). A body that
// is not a Kratos error (an HTML page from a proxy) still gives an *Error,
// with a snippet. A success answer whose body cannot be used is a
// *ResponseError (ErrMalformedResponse); a call refused before sending is an
// *ArgumentError (ErrInvalidArgument). Transport and context errors are
// wrapped, so errors.Is(err, context.DeadlineExceeded) holds.
//
// # Reliability
//
// GET, PUT and DELETE are retried on 429, 502, 503, 504 and transient
// transport errors with jittered exponential backoff, honouring Retry-After,
// Ory Network's x-ratelimit-reset on a 429 without it (see RateLimit), and
// the context (see RetryPolicy; WithoutRetries turns it off, and
// WithMaxRetries changes it for one call). POST and PATCH are not retried. Each attempt is bounded by a timeout (30 s by
// default, WithTimeout) and response bodies by a size limit
// (WithMaxResponseBytes). Redirects are followed by the client itself, and
// the bearer token never leaves the configured origins.
//
// # Observing calls
//
// Hooks (WithHooks for the client, WithCallHooks for one call) are told of
// every call and every attempt: the spec's operationId, the path template,
// the attempt, status, duration and error; each page of an iterator is a
// call, and Do, Generated and the bulk importer's batches are seen too. The
// module github.com/kratosadmin/sdk/otelkratos turns them into
// OpenTelemetry spans and metrics. A client without hooks pays nothing for
// them.
//
// # Models
//
// The models are generated from the OpenAPI document in api/ into package
// gen and re-exported here. Free-form JSON (traits, metadata, credential
// configuration) is json.RawMessage and keeps its bytes; DecodeTraits and
// DecodeJSON read it into your own types. Fields the server may send as
// null as well as leave out (state_changed_at, verified_at,
// organization_id) are Nullable, so the two stay apart.
//
// # Generated requests
//
// Every method builds its request with the builder generated from the same
// document (gen.NewXxxRequest): path, escaping, query names and styles come
// from the spec, so a parameter added there is sent once the code is
// regenerated. Client.Generated returns the generated client itself,
// configured with this client's auth, retries, limits and error mapping,
// for operations that have no method here yet.
package client
