package bulk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/retry"
)

// process sends a batch and settles every item in it, splitting and
// retrying as the failure calls for (see handle).
func (im *importer) process(items []*importItem) {
	for attempt := 1; ; attempt++ {
		items = im.dropUnknown(items)
		if len(items) == 0 {
			return
		}
		if im.ctx.Err() != nil {
			im.abandon(items)
			return
		}
		if im.resize(items) {
			return
		}
		if !im.pace.wait(im.ctx) {
			im.abandon(items)
			return
		}
		kind, err := im.attempt(items)
		if err == nil {
			return // settled
		}
		var resend bool
		if items, resend = im.handle(kind, items, err, attempt); !resend {
			return
		}
		if !im.waitToResend(items, attempt, err) {
			return
		}
	}
}

// resize sends items formed before a timeout taught a smaller size in
// batches of that size; it reports whether it did.
func (im *importer) resize(items []*importItem) bool {
	size := im.sizer.get()
	if len(items) <= size {
		return false
	}
	for len(items) > 0 {
		n := min(size, len(items))
		im.process(items[:n])
		items = items[n:]
	}
	return true
}

// handle acts on a failed attempt of items as kind calls for. It returns
// the items to send again as they are, after the engine's wait, or false
// when it settled, split or abandoned them.
func (im *importer) handle(kind failureKind, items []*importItem, err error, attempt int) ([]*importItem, bool) {
	switch kind {
	case failItems:
		im.resolveOrFail(items, err)
	case failRun:
		im.cancel(err)
		im.resolveOrFail(items, err)
	case requestAborted:
		markMaybeApplied(items)
		im.abandon(items)
	case splitRefused:
		im.splitRefused(items, err)
	case splitAmbiguous:
		return im.splitAmbiguous(items)
	case retryMaybe:
		return im.retryMaybe(items, attempt)
	default: // retrySame
		return items, true
	}
	return nil, false
}

// splitRefused splits a batch refused as a whole to find the item at fault
// (a single item fails); a 413 also teaches a smaller batch size.
func (im *importer) splitRefused(items []*importItem, err error) {
	if len(items) == 1 {
		im.resolveOrFail(items, err)
		return
	}
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusRequestEntityTooLarge {
		im.sizer.shrink(len(items))
	}
	im.split(items)
}

// splitAmbiguous handles a batch whose answer was lost: after a pause,
// what the server applied is looked for (by lookups, or with the next
// walk, which the lost answers of a run share: see settler), not sent
// again to collect conflicts (which a real Kratos answers as slowly as
// creations); the rest is split, or sent again when it is one item.
func (im *importer) splitAmbiguous(items []*importItem) ([]*importItem, bool) {
	markMaybeApplied(items)
	im.sizer.shrink(len(items))
	if !im.retry.Pause(im.ctx) {
		im.abandon(items)
		return nil, false
	}
	if items = im.settle.probe(items, true); len(items) == 0 {
		return nil, false
	}
	if len(items) > 1 {
		im.split(items)
		return nil, false
	}
	return items, true
}

// retryMaybe handles a 5xx answer, after which the batch may have been
// applied: it is sent again once; a 5xx that outlives a resend may come
// from one item (a password the server's bcrypt refuses answers 500 for
// the whole request), so the batch is then split to isolate it. What was
// applied is found by the conflict check on resend.
func (im *importer) retryMaybe(items []*importItem, attempt int) ([]*importItem, bool) {
	markMaybeApplied(items)
	if len(items) == 1 || attempt < 2 {
		return items, true
	}
	if !im.retry.Pause(im.ctx) {
		im.abandon(items)
		return nil, false
	}
	im.split(items)
	return nil, false
}

// waitToResend waits before items are sent again as the retry engine
// decides, and reports whether to send them; otherwise it settles them.
func (im *importer) waitToResend(items []*importItem, attempt int, err error) bool {
	f := retry.Failure{Transient: true}
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		reset := time.Duration(-1)
		if apiErr.RateLimit != nil {
			reset = apiErr.RateLimit.Reset
		}
		f = retry.Answered(true, apiErr.StatusCode, apiErr.RetryAfter, reset)
	}
	switch im.retry.After(im.ctx, attempt, f) {
	case retry.Stop, retry.Deadline:
		im.resolveOrFail(items, err)
	case retry.TooLong:
		im.resolveOrFail(items, fmt.Errorf("%w (the server asked to wait longer than %s)", err, im.retry.Policy.MaxRetryAfter))
	case retry.Cancelled:
		im.abandon(items)
	default:
		return true
	}
	return false
}

// attempt sends items once. It returns a nil error when every item was
// settled (created, present or failed from the per-item answers, or after
// a 409 for the whole batch), and otherwise the failure to act upon.
func (im *importer) attempt(items []*importItem) (failureKind, error) {
	ctx, done := im.requestContext()
	defer done()
	patches := make([]client.IdentityPatch, len(items))
	for i, it := range items {
		patches[i].Create = it.body
	}
	im.batches.Add(1)
	var answer *http.Response
	res, err := im.c.Identities.BatchCreate(ctx, patches,
		client.WithMaxRetries(0), // the importer decides about resending
		client.WithResponseInto(&answer))
	if answer != nil {
		im.pace.observe(answer.Header, time.Now())
	}
	var batchErr *client.BatchError
	if err != nil && !errors.As(err, &batchErr) {
		if ctx.Err() != nil {
			return requestAborted, err // the cancellation grace ran out
		}
		kind := classify(err)
		if kind != conflictAll {
			return kind, err
		}
		im.settleConflicts(items, err)
		return 0, nil
	}
	im.sizer.ok(len(items))
	im.opts.Progress.addSent(len(items))
	var conflicts []pendingSettle
	var rolledBack []*importItem
	for i, r := range res.Items {
		it := items[i]
		switch {
		case r.Err == nil:
			im.emit(it.outcome(ImportCreated, r.IdentityID, nil))
		case errors.Is(r.Err, client.ErrRolledBack):
			// Kratos before v25.4 undid the whole batch for another
			// item's conflict: the server holds nothing of this item.
			rolledBack = append(rolledBack, it)
		case errors.Is(r.Err, client.ErrConflict) && it.checkable():
			conflicts = append(conflicts, pendingSettle{it: it, kind: settleConflict, cause: r.Err})
		default: // a conflict without identifiers or external id cannot be checked
			im.emit(it.outcome(ImportFailed, "", r.Err))
		}
	}
	im.settle.batchAnswered(len(items), len(conflicts))
	im.settle.addAll(conflicts)
	if len(rolledBack) > 0 {
		// Send them again without the items that failed: each round
		// settles at least the item that caused the rollback, so this ends.
		im.process(rolledBack)
	}
	return 0, nil
}

func (im *importer) split(items []*importItem) {
	half := len(items) / 2
	im.process(items[:half])
	im.process(items[half:])
}

func markMaybeApplied(items []*importItem) {
	for _, it := range items {
		it.maybeApplied = true
	}
}

// dropUnknown fails the items that may already exist and cannot be
// checked, so that they are never sent twice.
func (im *importer) dropUnknown(items []*importItem) []*importItem {
	keep := items[:0:0]
	for _, it := range items {
		if it.maybeApplied && !it.checkable() {
			im.emit(it.outcome(ImportFailed, "", fmt.Errorf("%w; the identity has no credential identifier and no external id to check whether it was created, so it is not sent again", ErrOutcomeUnknown)))
			continue
		}
		keep = append(keep, it)
	}
	return keep
}

// resolveOrFail settles items whose last attempt failed: those that may
// have been applied are looked for (see settler), the rest fail with err.
func (im *importer) resolveOrFail(items []*importItem, err error) {
	var lost []pendingSettle
	for _, it := range items {
		if !it.maybeApplied {
			im.emit(it.outcome(ImportFailed, "", err))
			continue
		}
		lost = append(lost, pendingSettle{it: it, kind: settleLost, cause: err})
	}
	im.settle.addAll(lost)
}

// settleConflicts checks items the server refused as conflicts (see
// settler), which finds the identity each conflicts with.
func (im *importer) settleConflicts(items []*importItem, conflict error) {
	var check []pendingSettle
	for _, it := range items {
		if !it.checkable() {
			im.emit(it.outcome(ImportFailed, "", conflict))
			continue
		}
		check = append(check, pendingSettle{it: it, kind: settleConflict, cause: conflict})
	}
	im.settle.addAll(check)
}

// resend sends items that settling did not find on the server again, in
// batches of the current size.
func (im *importer) resend(items []*importItem) {
	for len(items) > 0 {
		n := min(im.sizer.get(), len(items))
		im.process(items[:n])
		items = items[n:]
	}
}

// finding is an item's identity found on the server, compared with the
// item (compare). Settling keeps findings, not the identities found, so
// that what it holds is the size of its items, not of the identities.
type finding struct {
	found      bool // an identity was found: the rest is its comparison
	id         string
	diff       string // "" the same identity
	unverified bool
}

// compare compares an item with the identity found for it.
func (im *importer) compare(it *importItem, found *client.Identity) finding {
	if it.needsStoredHash() {
		if _, ok := storedHash(found); !ok {
			// The list left the password's configuration out (older
			// servers list credentials only when filtering by
			// identifier): the identity itself has it, one request by id.
			if full := im.fetchCredentials(found.ID); full != nil {
				found = full
			}
		}
	}
	diff, unverified := identityDifference(found, &it.body, it.prehashed)
	return finding{found: true, id: found.ID, diff: diff, unverified: unverified}
}

// settleFound reports an item found on the server (f.found): already
// present when it is the same identity, a conflict otherwise.
func (im *importer) settleFound(it *importItem, f finding, cause error) {
	if f.diff != "" {
		if !errors.Is(cause, client.ErrConflict) {
			cause = fmt.Errorf("%w (after: %v)", client.ErrConflict, cause)
		}
		im.emit(it.outcome(ImportFailed, "", &ConflictError{ExistingID: f.id, Difference: f.diff, Err: cause}))
		return
	}
	o := it.outcome(ImportAlreadyPresent, f.id, nil)
	o.PasswordUnverified = f.unverified
	im.emit(o)
}

// fetchCredentials gets an identity with the configuration of the
// credentials the comparison reads (nil when that fails: the comparison
// then finds them missing, a conflict).
func (im *importer) fetchCredentials(id string) *client.Identity {
	ctx, done := im.requestContext()
	defer done()
	full, err := im.c.Identities.Get(ctx, id, &client.GetIdentityParams{IncludeCredential: compareCredentialTypes})
	if err != nil {
		return nil
	}
	return full
}

// compareCredentialTypes are the credentials whose configuration
// identityDifference reads.
var compareCredentialTypes = []client.IdentityCredentialsType{client.CredentialsTypePassword, client.CredentialsTypeOIDC, client.CredentialsTypeSAML}

// needsStoredHash reports whether the item's password is compared with
// the stored hash: a hashed_password of the input's (not one the importer
// made from a plaintext password).
func (it *importItem) needsStoredHash() bool {
	return it.body.Credentials.Password.Config.HashedPassword != "" && !it.prehashed
}

// identityDifference says how an existing identity differs from a body to
// create ("" when it is the same identity): what the input asks for must be
// what the server holds: schema, external id, traits, state, metadata, and
// the credentials: a hashed_password compared as stored, OIDC and SAML
// links by provider and subject, other credential types by their presence.
// A plaintext password cannot be compared with the stored hash cheaply
// (bcrypt at the server's cost, for every item of a re-run): unverified
// reports that the identity was found with a password, not whether it is
// the input's. prehashed: the body's hashed_password is the importer's own
// hash of a plaintext password (a fresh salt), so it counts as plaintext.
func identityDifference(found *client.Identity, body *client.CreateIdentityBody, prehashed bool) (diff string, unverified bool) {
	state := body.State
	if state == "" {
		state = client.IdentityStateActive
	}
	switch {
	case found.SchemaID != body.SchemaID:
		return fmt.Sprintf("schema_id is %q, not %q", found.SchemaID, body.SchemaID), false
	case found.ExternalID != body.ExternalID:
		return fmt.Sprintf("external_id is %q, not %q", found.ExternalID, body.ExternalID), false
	case !jsonEqual(found.Traits, body.Traits):
		return "traits differ", false
	case found.State != state:
		return fmt.Sprintf("state is %q, not %q", found.State, state), false
	case !jsonEqual(found.MetadataPublic, body.MetadataPublic):
		return "metadata_public differs", false
	case !jsonEqual(found.MetadataAdmin, body.MetadataAdmin):
		return "metadata_admin differs", false
	}
	creds := &body.Credentials
	if pw := creds.Password.Config; pw.HashedPassword != "" || pw.Password != "" {
		_, has := found.Credentials[string(client.CredentialsTypePassword)]
		stored, _ := storedHash(found)
		switch {
		case !has:
			return "it has no password", false
		case pw.HashedPassword != "" && !prehashed && stored != pw.HashedPassword:
			return "its password hash differs", false
		case pw.HashedPassword == "" || prehashed:
			unverified = true
		}
	}
	for _, p := range creds.OIDC.Config.Providers {
		if !hasIdentifier(found, client.CredentialsTypeOIDC, p.Provider+":"+p.Subject) {
			return fmt.Sprintf("it has no oidc link to %s", p.Provider), false
		}
	}
	for _, p := range creds.SAML.Config.Providers {
		if !hasIdentifier(found, client.CredentialsTypeSAML, p.Provider+":"+p.Subject) {
			return fmt.Sprintf("it has no saml link to %s", p.Provider), false
		}
	}
	for typ, wanted := range map[client.IdentityCredentialsType]bool{
		client.CredentialsTypeTOTP:         creds.TOTP.Config.TOTPURL != "",
		client.CredentialsTypeLookupSecret: len(creds.LookupSecret.Config.Codes) > 0,
		client.CredentialsTypeWebAuthn:     len(creds.WebAuthn.Config.Credentials) > 0,
		client.CredentialsTypePasskey:      len(creds.Passkey.Config.Credentials) > 0,
	} {
		if _, has := found.Credentials[string(typ)]; wanted && !has {
			return fmt.Sprintf("it has no %s credential", typ), false
		}
	}
	return "", unverified
}

// storedHash is the password hash found holds, and whether it holds one.
func storedHash(found *client.Identity) (string, bool) {
	c, ok := found.Credentials[string(client.CredentialsTypePassword)]
	if !ok {
		return "", false
	}
	var cfg struct {
		HashedPassword string `json:"hashed_password"`
	}
	_ = json.Unmarshal(c.Config, &cfg)
	return cfg.HashedPassword, cfg.HashedPassword != ""
}

// hasIdentifier reports whether found's credential of type typ has the
// identifier id ("provider:subject" for OIDC and SAML).
func hasIdentifier(found *client.Identity, typ client.IdentityCredentialsType, id string) bool {
	c, ok := found.Credentials[string(typ)]
	return ok && slices.Contains(c.Identifiers, id)
}

// requestContext is the context of one batch and the look-ups that settle
// it. It outlives the run's context by CancelGrace, so that a request in
// flight when the import is cancelled can still settle its items.
func (im *importer) requestContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(im.parent))
	var mu sync.Mutex
	var timer *time.Timer
	stop := context.AfterFunc(im.ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(im.opts.CancelGrace, cancel)
	})
	return ctx, func() {
		stop()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}
