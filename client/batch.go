package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/kratosadmin/sdk/gen"
)

// Server limits of the batch endpoint.
const (
	MaxBatchSize              = 1000 // identities per request
	MaxBatchPlaintextPassword = 200  // identities with plaintext passwords per request
)

// BatchResult is the outcome of a batch, one item per submitted identity,
// in request order.
type BatchResult struct {
	Items []BatchItem
}

// BatchItem is the outcome of one batch item.
type BatchItem struct {
	// Index is the item's position in the request.
	Index int
	// PatchID is the item's patch_id, when it had one.
	PatchID string
	// IdentityID is the new identity's id when the item was created.
	IdentityID string
	// Err is nil when the item was created. Otherwise it is an *Error
	// built from the item's error object, whose StatusCode is the item's
	// error code: errors.Is(item.Err, ErrConflict) finds duplicates.
	Err error
}

// Created reports whether the item was created.
func (it BatchItem) Created() bool { return it.Err == nil }

// CreatedCount and FailedCount count the outcomes.
func (r *BatchResult) CreatedCount() int {
	n := 0
	for _, it := range r.Items {
		if it.Err == nil {
			n++
		}
	}
	return n
}

func (r *BatchResult) FailedCount() int { return len(r.Items) - r.CreatedCount() }

// BatchError reports a batch in which some items failed. The batch itself
// was answered (the server says 200 even when every item failed); Result
// holds every item's outcome.
type BatchError struct {
	Result *BatchResult
}

func (e *BatchError) Error() string {
	failed := e.Result.FailedCount()
	msg := fmt.Sprintf("kratos: batch: %d of %d items failed", failed, len(e.Result.Items))
	for _, it := range e.Result.Items {
		if it.Err != nil {
			msg += fmt.Sprintf("; first: item %d: %v", it.Index, it.Err)
			break
		}
	}
	return msg
}

// Is makes errors.Is(err, ErrBatchItemsFailed) hold.
func (e *BatchError) Is(target error) bool { return target == ErrBatchItemsFailed }

// BatchCreate creates up to 1,000 identities in one request (at most 200 of
// them with plaintext passwords), and returns each item's outcome. When any
// item failed, it returns the result together with a *BatchError, never as
// plain success. It is not retried by default (see RetryPolicy);
// WithMaxRetries(0) sends it exactly once whatever the policy says. For
// large or unreliable imports use package bulk (bulk.Import).
//
// It corresponds to PATCH /admin/identities.
func (s *IdentitiesService) BatchCreate(ctx context.Context, items []IdentityPatch, opts ...CallOption) (*BatchResult, error) {
	const op = "Identities.BatchCreate"
	if len(items) > MaxBatchSize {
		return nil, &ArgumentError{Op: op, Argument: "items", Reason: fmt.Sprintf("%d items, the server takes at most %d", len(items), MaxBatchSize)}
	}
	plaintext := 0
	for i := range items {
		// Argument names only for an error: a batch holds a thousand items.
		if checkCreateBody(op, "", &items[i].Create) != nil {
			return nil, checkCreateBody(op, fmt.Sprintf("items[%d].Create", i), &items[i].Create)
		}
		if items[i].PatchID != "" && checkUUID(op, "", items[i].PatchID) != nil {
			return nil, checkUUID(op, fmt.Sprintf("items[%d].PatchID", i), items[i].PatchID)
		}
		if items[i].Create.Credentials.Password.Config.Password != "" {
			plaintext++
		}
	}
	if plaintext > MaxBatchPlaintextPassword {
		return nil, &ArgumentError{Op: op, Argument: "items", Reason: fmt.Sprintf("%d items carry plaintext passwords, the server takes at most %d per batch (pre-hash them, or send smaller batches)", plaintext, MaxBatchPlaintextPassword)}
	}
	if items == nil {
		items = []IdentityPatch{}
	}
	b, err := marshal(op, "items", gen.PatchIdentitiesBody{Identities: items})
	if err != nil {
		return nil, err
	}
	req, err := gen.NewBatchPatchIdentitiesRequestWithBody(s.c.server(false), jsonContentType, nil)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	for i := range items {
		if err := s.c.requireCreateFeatures(ctx, op, &items[i].Create); err != nil {
			return nil, err
		}
	}
	// How to read the answer depends on the release: learn it first.
	rel, err := s.c.release(ctx)
	if err != nil {
		return nil, err
	}
	cl.body = b
	var out gen.BatchPatchIdentitiesResponse
	resp, err := s.c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	defer resp.release()
	if err := s.c.decode(cl, resp, &out); err != nil {
		return nil, err
	}
	result, err := batchResult(items, out.Identities)
	if err != nil {
		return nil, &ResponseError{Method: cl.method, Path: cl.path, StatusCode: resp.status, ContentType: resp.header.Get("Content-Type"), Err: err}
	}
	if result.FailedCount() > 0 {
		if err := s.checkRolledBack(ctx, rel, result); err != nil {
			return result, err
		}
		return result, &BatchError{Result: result}
	}
	return result, nil
}

// checkRolledBack makes a batch with failed items tell the truth on a
// release that rolls the whole request back when one item conflicts
// (v1.3.1 answers "create" with an id for the others and stores none of
// them): it lists the ids the server answered (one request per 500) and
// marks each item the server does not hold with a *RolledBackError.
// Releases with FeatureBatchPerItem, and a release the server did not
// name, are taken at their word.
func (s *IdentitiesService) checkRolledBack(ctx context.Context, r release, result *BatchResult) error {
	if r.has(FeatureBatchPerItem) {
		return nil
	}
	var created []int
	for i, it := range result.Items {
		if it.Err == nil {
			created = append(created, i)
		}
	}
	for len(created) > 0 {
		chunk := created[:min(len(created), 500)]
		created = created[len(chunk):]
		p := &ListIdentitiesParams{IDs: make([]string, len(chunk)), PageSize: MaxIdentitiesPageSize}
		for k, i := range chunk {
			p.IDs[k] = result.Items[i].IdentityID
		}
		cl, err := s.c.listIdentitiesCall("Identities.BatchCreate", p)
		if err != nil {
			return err
		}
		page, err := listPage[Identity](ctx, s.c, cl)
		if err != nil {
			return fmt.Errorf("kratos: batch: some items failed, and checking whether the server (%s) kept the others failed: %w", r.name, err)
		}
		held := make(map[string]bool, len(page.Items))
		for _, id := range page.Items {
			held[id.ID] = true
		}
		for _, i := range chunk {
			if it := &result.Items[i]; !held[it.IdentityID] {
				it.Err = &RolledBackError{IdentityID: it.IdentityID, Release: r.name}
				it.IdentityID = ""
			}
		}
	}
	return nil
}

// RolledBackError is a batch item the server answered as created but did
// not keep: Kratos before v25.4 rolls the whole batch back when one item
// conflicts. Sending the item again creates it. It matches ErrRolledBack.
type RolledBackError struct {
	IdentityID string // the id the server answered and then rolled back
	Release    string // the server's release, "v1.3.1"
}

func (e *RolledBackError) Error() string {
	return fmt.Sprintf("kratos: batch item rolled back: the server (Kratos %s) answered create with id %s but undid the whole batch because another item failed; send it again", e.Release, e.IdentityID)
}

// Is makes errors.Is(err, ErrRolledBack) hold.
func (e *RolledBackError) Is(target error) bool { return target == ErrRolledBack }

// batchResult pairs the server's per-item results with the request: by
// position, checking that echoed patch ids agree.
func batchResult(items []IdentityPatch, got []*gen.IdentityPatchResponse) (*BatchResult, error) {
	if len(got) != len(items) {
		return nil, fmt.Errorf("batch answered %d results for %d items", len(got), len(items))
	}
	r := &BatchResult{Items: make([]BatchItem, len(items))}
	for i, g := range got {
		it := BatchItem{Index: i, PatchID: items[i].PatchID}
		if g == nil {
			// Kratos answers null for an item without create and does
			// nothing for it (recording batchPatchIdentities-item-without-create).
			it.Err = ErrBatchItemNotApplied
			r.Items[i] = it
			continue
		}
		if g.PatchID != "" && g.PatchID != items[i].PatchID {
			return nil, fmt.Errorf("result %d has patch_id %q, item %d sent %q", i, g.PatchID, i, items[i].PatchID)
		}
		switch g.Action {
		case gen.IdentityPatchResponseActionCreate:
			if !isUUID(g.Identity) {
				return nil, fmt.Errorf("result %d: action create without an identity id", i)
			}
			it.IdentityID = g.Identity
		case gen.IdentityPatchResponseActionError:
			it.Err = itemError(g.Error)
		default:
			return nil, fmt.Errorf("result %d: unknown action %q", i, g.Action)
		}
		r.Items[i] = it
	}
	return r, nil
}

func itemError(ge gen.GenericError) error {
	e := &Error{
		StatusCode: int(ge.Code),
		Method:     http.MethodPatch,
		Path:       identitiesPath,
		Code:       ge.Code,
		Status:     ge.Status,
		Reason:     ge.Reason,
		Message:    ge.Message,
		ID:         ge.ID,
		Request:    ge.Request,
		Debug:      ge.Debug,
		Details:    ge.Details,
	}
	if e.Message == "" && e.Reason == "" {
		e.Message = "batch item failed without an error message"
	}
	return e
}
