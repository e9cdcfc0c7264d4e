package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

type config struct {
	adminURL, publicURL, apiKey, schemaID string
	count, batchSize                      int
}

type demo struct {
	cfg      config
	out      io.Writer
	c        *client.Client
	fake     *kratostest.Server
	target   string
	runID    string
	password string
	created  []createdIdentity
	step     int
	release  string // the server's release, "" when it does not say
	external bool   // the release stores external ids (v25.4 and later)
}

// skipped is a step the server's release cannot do: the demo says so and
// goes on.
type skipped struct{ why string }

func (s *skipped) Error() string { return s.why }

type createdIdentity struct {
	id, email, externalID string
}

func newDemo(ctx context.Context, cfg config, out io.Writer) (*demo, error) {
	d := &demo{cfg: cfg, out: out, runID: randomHex(4), password: "demo-" + randomHex(12)}
	if cfg.adminURL == "" {
		srv, err := kratostest.Start()
		if err != nil {
			return nil, fmt.Errorf("starting the embedded fake server: %w", err)
		}
		d.fake = srv
		d.c = srv.Client()
		d.target = "embedded fake server at " + srv.URL + " (set KRATOS_ADMIN_URL for a real Kratos)"
		return d, nil
	}
	opts := []client.Option{client.WithTimeout(20 * time.Second)}
	if cfg.apiKey != "" {
		opts = append(opts, client.WithBearerToken(cfg.apiKey))
	}
	if cfg.publicURL != "" {
		opts = append(opts, client.WithPublicURL(cfg.publicURL))
	}
	c, err := client.New(cfg.adminURL, opts...)
	if err != nil {
		return nil, err
	}
	d.c = c
	d.target = "Kratos at " + cfg.adminURL
	return d, nil
}

func (d *demo) close() {
	if d.fake != nil {
		d.fake.Close()
	}
}

// stepFn runs one step and returns a one-line result.
type stepFn func(ctx context.Context) (string, error)

func (d *demo) run(ctx context.Context) (err error) {
	fmt.Fprintf(d.out, "Kratos identity-admin SDK demo (run %s)\ntarget: %s\n\n", d.runID, d.target)
	defer func() {
		if err != nil && len(d.created) > 0 {
			d.cleanup()
		}
	}()
	steps := []struct {
		name string
		fn   stepFn
	}{
		{"reach the admin API", d.reach},
		{"pick an identity schema", d.pickSchema},
		{"import identities in batches", d.importBatches},
		{"page through identities", d.walk},
		{"look up by external id", d.lookupExternal},
		{"patch an identity", d.patch},
		{"create recovery code and link", d.recovery},
		{"sessions: list, extend, disable", d.sessions},
		{"delete the imported identities", d.deleteAll},
		{"map an error", d.mapError},
	}
	start := time.Now()
	for _, s := range steps {
		d.step++
		t0 := time.Now()
		detail, err := s.fn(ctx)
		var skip *skipped
		if errors.As(err, &skip) {
			fmt.Fprintf(d.out, "%2d. %-32s skip  %s\n", d.step, s.name, skip.why)
			continue
		}
		if err != nil {
			fmt.Fprintf(d.out, "%2d. %-32s FAILED\n", d.step, s.name)
			return fmt.Errorf("step %d (%s): %w", d.step, s.name, err)
		}
		fmt.Fprintf(d.out, "%2d. %-32s ok  %s (%s)\n", d.step, s.name, detail, time.Since(t0).Round(time.Millisecond))
	}
	fmt.Fprintf(d.out, "\nall %d steps succeeded in %s\n", len(steps), time.Since(start).Round(time.Millisecond))
	return nil
}

func (d *demo) reach(ctx context.Context) (string, error) {
	page, err := d.c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: 1})
	if err != nil {
		return "", fmt.Errorf("cannot reach the Kratos admin API: %w", err)
	}
	d.release, err = d.c.KratosVersion(ctx)
	switch {
	case errors.Is(err, client.ErrUnknownRelease):
		d.release = "(the server does not say which release)"
	case err != nil:
		return "", err
	}
	if d.external, err = d.c.Supports(ctx, client.FeatureExternalID); err != nil {
		return "", err
	}
	if len(page.Items) == 0 {
		return "no identities yet; Kratos " + d.release, nil
	}
	return "the server answers; Kratos " + d.release, nil
}

func (d *demo) pickSchema(ctx context.Context) (string, error) {
	var ids []string
	for s, err := range d.c.Schemas.List(ctx, nil) {
		if err != nil {
			return "", fmt.Errorf("listing identity schemas: %w", err)
		}
		ids = append(ids, s.ID)
	}
	if len(ids) == 0 {
		return "", errors.New("the server has no identity schemas")
	}
	switch {
	case d.cfg.schemaID != "":
	case contains(ids, "default"):
		d.cfg.schemaID = "default"
	default:
		d.cfg.schemaID = ids[0]
	}
	if !contains(ids, d.cfg.schemaID) {
		return "", fmt.Errorf("schema %q not among %v", d.cfg.schemaID, ids)
	}
	schema, err := d.c.Schemas.Get(ctx, d.cfg.schemaID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%q (%d bytes of JSON Schema; %d schema(s) in all)", d.cfg.schemaID, len(schema), len(ids)), nil
}

func (d *demo) email(n int) string { return fmt.Sprintf("demo-%s-%04d@example.org", d.runID, n) }

func (d *demo) importBatches(ctx context.Context) (string, error) {
	batches := 0
	for start := 0; start < d.cfg.count; start += d.cfg.batchSize {
		end := min(start+d.cfg.batchSize, d.cfg.count)
		items := make([]client.IdentityPatch, 0, end-start)
		for n := start; n < end; n++ {
			traits, err := client.RawJSON(map[string]string{"email": d.email(n)})
			if err != nil {
				return "", err
			}
			body := client.CreateIdentityBody{
				SchemaID:       d.cfg.schemaID,
				Traits:         traits,
				MetadataPublic: json.RawMessage(`{"source":"kratos-demo"}`),
			}
			if d.external {
				body.ExternalID = fmt.Sprintf("demo-%s-%04d", d.runID, n)
			}
			if n == 0 {
				body.Credentials.Password.Config.Password = d.password
			}
			items = append(items, client.IdentityPatch{Create: body})
		}
		res, err := d.c.Identities.BatchCreate(ctx, items)
		if res != nil {
			for i, it := range res.Items {
				if it.Created() {
					d.created = append(d.created, createdIdentity{id: it.IdentityID, email: d.email(start + i), externalID: items[i].Create.ExternalID})
				}
			}
		}
		if err != nil {
			return "", err
		}
		batches++
	}
	return fmt.Sprintf("%d identities created in %d batches", len(d.created), batches), nil
}

func (d *demo) walk(ctx context.Context) (string, error) {
	ours := make(map[string]bool, len(d.created))
	for _, c := range d.created {
		ours[c.id] = true
	}
	seen, found := 0, 0
	for identity, err := range d.c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 100}) {
		if err != nil {
			return "", err
		}
		seen++
		if ours[identity.ID] {
			found++
			if found == len(ours) {
				break
			}
		}
	}
	if found != len(ours) {
		return "", fmt.Errorf("walked %d identities but found %d of the %d imported", seen, found, len(ours))
	}
	return fmt.Sprintf("found all %d imported among %d identities, 100 per page", found, seen), nil
}

func (d *demo) lookupExternal(ctx context.Context) (string, error) {
	if !d.external {
		return "", &skipped{fmt.Sprintf("Kratos %s has no external ids (%s needs %s)", d.release, client.FeatureGetByExternalID, client.KratosV25_4)}
	}
	want := d.created[len(d.created)/2]
	got, err := d.c.Identities.GetByExternalID(ctx, want.externalID, nil)
	if err != nil {
		return "", err
	}
	traits, err := client.DecodeTraits[struct {
		Email string `json:"email"`
	}](got)
	if err != nil {
		return "", err
	}
	if got.ID != want.id || traits.Email != want.email {
		return "", fmt.Errorf("external id %s gave %s <%s>, want %s <%s>", want.externalID, got.ID, traits.Email, want.id, want.email)
	}
	return fmt.Sprintf("%s -> %s <%s>", want.externalID, got.ID, traits.Email), nil
}

func (d *demo) patch(ctx context.Context) (string, error) {
	target := d.created[0]
	got, err := d.c.Identities.Patch(ctx, target.id, []client.JSONPatch{
		client.PatchReplace("/metadata_public", map[string]any{"source": "kratos-demo", "plan": "pro"}),
		client.PatchReplace("/metadata_admin", nil), // sent as "value": null
		client.PatchReplace("/state", client.IdentityStateInactive),
	})
	if err != nil {
		return "", err
	}
	meta, err := client.DecodeMetadataPublic[map[string]string](got)
	if err != nil {
		return "", err
	}
	if meta["plan"] != "pro" || got.State != client.IdentityStateInactive {
		return "", fmt.Errorf("patch not applied: metadata %v, state %s", meta, got.State)
	}
	changed, _ := got.StateChangedAt.Get()
	return fmt.Sprintf("plan=pro, state inactive since %s", changed.Format(time.TimeOnly)), nil
}

func (d *demo) recovery(ctx context.Context) (string, error) {
	id := d.created[1].id
	code, err := d.c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: id, ExpiresIn: "15m"})
	if err != nil {
		return "", err
	}
	link, err := d.c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: id, ExpiresIn: "1h"}, nil)
	if err != nil {
		return "", err
	}
	if code.RecoveryCode == "" || link.RecoveryLink == "" {
		return "", errors.New("empty recovery code or link")
	}
	// Both grant access to the identity: the report says what came back,
	// never the code or the link themselves.
	return fmt.Sprintf("a %d-character code (expires %s) and a %d-byte link, neither shown", len(code.RecoveryCode), code.ExpiresAt.Format(time.TimeOnly), len(link.RecoveryLink)), nil
}

func (d *demo) sessions(ctx context.Context) (string, error) {
	owner := d.created[2]
	var made int
	switch {
	case d.fake != nil:
		for range 2 {
			if _, err := d.fake.CreateSession(owner.id); err != nil {
				return "", err
			}
			made++
		}
	case d.cfg.publicURL != "":
		// Real sessions come from login flows: sign the first identity in
		// twice through the public API with the password it was imported with.
		owner = d.created[0]
		if _, err := d.c.Identities.Patch(ctx, owner.id, []client.JSONPatch{client.PatchReplace("/state", client.IdentityStateActive)}); err != nil {
			return "", err
		}
		for range 2 {
			if err := passwordLogin(ctx, d.cfg.publicURL, owner.email, d.password); err != nil {
				return "", fmt.Errorf("logging in through %s: %w", d.cfg.publicURL, err)
			}
			made++
		}
	default:
		return "skipped: sessions come from login flows; set KRATOS_PUBLIC_URL to create some", nil
	}
	var ids []string
	for s, err := range d.c.Identities.ListSessions(ctx, owner.id, nil) {
		if err != nil {
			return "", err
		}
		ids = append(ids, s.ID)
	}
	if len(ids) != made {
		return "", fmt.Errorf("identity has %d sessions, want %d", len(ids), made)
	}
	if _, err := d.c.Sessions.Extend(ctx, ids[0]); err != nil {
		return "", err
	}
	if err := d.c.Sessions.Disable(ctx, ids[0]); err != nil {
		return "", err
	}
	s, err := d.c.Sessions.Get(ctx, ids[0], &client.GetSessionParams{Expand: []client.SessionExpandable{client.SessionExpandIdentity, client.SessionExpandDevices}})
	if err != nil {
		return "", err
	}
	if s.Active || s.Identity == nil || s.Identity.ID != owner.id {
		return "", fmt.Errorf("session %s after disable: active=%v identity=%v", s.ID, s.Active, s.Identity != nil)
	}
	all, err := d.c.Sessions.ListPage(ctx, &client.ListSessionsParams{PageSize: 10, Active: ptr(true)})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d sessions listed, one extended then disabled (active=%v); %d active on the first page of all sessions", len(ids), s.Active, len(all.Items)), nil
}

func (d *demo) deleteAll(ctx context.Context) (string, error) {
	n, err := d.deleteCreated(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d identities deleted (8 at a time)", n), nil
}

// deleteCreated deletes every created identity with 8 workers.
func (d *demo) deleteCreated(ctx context.Context) (int, error) {
	ids := make(chan string)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		deleted  int
		firstErr error
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				err := d.c.Identities.Delete(ctx, id)
				mu.Lock()
				if err == nil || errors.Is(err, client.ErrNotFound) {
					deleted++
				} else if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, c := range d.created {
		ids <- c.id
	}
	close(ids)
	wg.Wait()
	return deleted, firstErr
}

func (d *demo) mapError(ctx context.Context) (string, error) {
	gone := d.created[0].id
	_, err := d.c.Identities.Get(ctx, gone, nil)
	var apiErr *client.Error
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &apiErr) {
		return "", fmt.Errorf("getting a deleted identity: want ErrNotFound, got %v", err)
	}
	d.created = nil
	return fmt.Sprintf("GET deleted identity -> errors.Is(err, ErrNotFound), status %d %q", apiErr.StatusCode, apiErr.Message), nil
}

// cleanup deletes what a failed run created, so a real server is left as
// it was.
func (d *demo) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := d.deleteCreated(ctx)
	if err != nil {
		fmt.Fprintf(d.out, "cleanup: deleted %d of %d identities: %v\n", n, len(d.created), err)
		return
	}
	fmt.Fprintf(d.out, "cleanup: deleted the %d identities this run created\n", n)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
