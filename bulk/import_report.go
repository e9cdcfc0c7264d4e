package bulk

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"regexp"

	"github.com/kratosadmin/sdk/client"
)

// ImportReportEntry is one line of an import report (JSON Lines): the
// outcome of one input item.
type ImportReportEntry struct {
	Index       int          `json:"index"`
	Line        int          `json:"line,omitempty"`
	Identifiers []string     `json:"identifiers,omitempty"`
	ExternalID  string       `json:"external_id,omitempty"`
	Fingerprint string       `json:"fingerprint,omitempty"`
	Status      ImportStatus `json:"status"`
	IdentityID  string       `json:"identity_id,omitempty"`
	// PasswordUnverified: see ImportOutcome.
	PasswordUnverified bool   `json:"password_unverified,omitempty"`
	Error              string `json:"error,omitempty"`
}

// ReportEntry returns the report line for an outcome.
func (o ImportOutcome) ReportEntry() ImportReportEntry {
	e := ImportReportEntry{
		Index:       o.Index,
		Line:        o.Line,
		Identifiers: o.Identifiers,
		ExternalID:  o.ExternalID,
		Fingerprint: o.Fingerprint,
		Status:      o.Status,
		IdentityID:  o.IdentityID,

		PasswordUnverified: o.PasswordUnverified,
	}
	if o.Err != nil {
		e.Error = o.Err.Error()
	}
	return e
}

// ImportReport writes import outcomes as JSON Lines, for people to read and
// for ReadImportReport to resume from. Pass its Write method as
// ImportOptions.OnOutcome (or call it from yours) and Flush it at the end.
// It buffers a few hundred lines: a report cut short by a crash loses at
// most those, and resuming simply imports them again (the importer
// recognises identities it created before).
type ImportReport struct {
	w *jsonlWriter
	n int
}

// NewImportReport returns a report writing to w.
func NewImportReport(w io.Writer) *ImportReport { return &ImportReport{w: newJSONLWriter(w)} }

// Write adds an outcome. It returns the first write error, and keeps
// returning it.
func (r *ImportReport) Write(o ImportOutcome) error {
	if err := r.w.write(o.ReportEntry()); err != nil {
		return err
	}
	if r.n++; r.n%256 == 0 {
		return r.w.flush()
	}
	return nil
}

// Flush writes out buffered lines.
func (r *ImportReport) Flush() error { return r.w.flush() }

// ImportResume is what an earlier run did, read from its report: the
// importer skips the items that run created or found present.
type ImportResume struct {
	done map[int]resumeEntry
}

type resumeEntry struct {
	keys        uint64 // fingerprint of identifiers and external id
	fingerprint string // the item's itemFingerprint
	identityID  string
}

// Done is the number of items the earlier run completed.
func (r *ImportResume) Done() int {
	if r == nil {
		return 0
	}
	return len(r.done)
}

// lookup returns the identity id of a completed item, when the report has
// the item at index with the same identifiers, external id and content.
func (r *ImportResume) lookup(index int, identifiers []string, externalID, fingerprint string) (string, bool) {
	if r == nil {
		return "", false
	}
	e, ok := r.done[index]
	if !ok || e.keys != keyFingerprint(identifiers, externalID) || e.fingerprint != fingerprint {
		return "", false
	}
	return e.identityID, true
}

// itemFingerprint is a digest of an item's body as read, the plaintext
// password left out (a digest of a guessable password would let anyone
// who reads the report guess it): what binds a report line to its item.
func itemFingerprint(body *client.CreateIdentityBody) string {
	b := *body
	b.Credentials.Password.Config.Password = ""
	enc, err := json.Marshal(&b)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(enc)
	return hex.EncodeToString(sum[:16])
}

var (
	uuidPattern        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	fingerprintPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// checkEntry validates a report line: a known status, an index, a UUID for
// an identity id, a fingerprint of the right form.
func checkEntry(e *ImportReportEntry) error {
	switch e.Status {
	case ImportCreated, ImportAlreadyPresent, ImportSkipped, ImportFailed, ImportNotAttempted, ImportValid:
	default:
		return fmt.Errorf("unknown status %q", e.Status)
	}
	switch {
	case e.Index < 0:
		return errors.New("negative index")
	case e.Line < 0:
		return errors.New("negative line")
	case e.IdentityID != "" && !uuidPattern.MatchString(e.IdentityID):
		return fmt.Errorf("identity_id %q is not a UUID", e.IdentityID)
	case e.Fingerprint != "" && !fingerprintPattern.MatchString(e.Fingerprint):
		return fmt.Errorf("fingerprint %q is not one this SDK writes", e.Fingerprint)
	}
	return nil
}

func keyFingerprint(identifiers []string, externalID string) uint64 {
	h := fnv.New64a()
	for _, id := range identifiers {
		_, _ = io.WriteString(h, id)
		_, _ = h.Write([]byte{0})
	}
	_, _ = h.Write([]byte{1})
	_, _ = io.WriteString(h, externalID)
	return h.Sum64()
}

// ReadImportReport reads a report written by ImportReport. Items reported
// created, already present or skipped (with an identity id) count as done,
// for the item of the same index, identifiers, external id and content
// (the line's fingerprint); everything else is imported again. Every line
// is validated (its status, a UUID for its identity id): a tampered or
// foreign line is an error naming it, not an item skipped. A last line cut
// off mid-way (the run was killed while writing it) is ignored.
func ReadImportReport(r io.Reader) (*ImportResume, error) {
	res := &ImportResume{done: map[int]resumeEntry{}}
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("kratos: reading import report: %w", err)
		}
		last := err == io.EOF
		if t := bytes.TrimSpace(b); len(t) > 0 {
			var e ImportReportEntry
			uerr := json.Unmarshal(t, &e)
			if uerr != nil && last && !bytes.HasSuffix(b, []byte("\n")) {
				break // a line cut off by a crash
			}
			if uerr == nil {
				uerr = checkEntry(&e)
			}
			if uerr != nil {
				return nil, fmt.Errorf("kratos: import report line %d: %w", line, uerr)
			}
			switch e.Status {
			case ImportCreated, ImportAlreadyPresent, ImportSkipped:
				// A line without a fingerprint (an older report) is bound
				// to nothing: its item is imported again, and found.
				if e.IdentityID != "" && e.Fingerprint != "" {
					res.done[e.Index] = resumeEntry{keys: keyFingerprint(e.Identifiers, e.ExternalID), fingerprint: e.Fingerprint, identityID: e.IdentityID}
					continue
				}
			}
			delete(res.done, e.Index)
		}
		if last {
			break
		}
	}
	return res, nil
}
