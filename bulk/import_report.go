package bulk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// ImportReportEntry is one line of an import report (JSON Lines): the
// outcome of one input item.
type ImportReportEntry struct {
	Index       int          `json:"index"`
	Line        int          `json:"line,omitempty"`
	Identifiers []string     `json:"identifiers,omitempty"`
	ExternalID  string       `json:"external_id,omitempty"`
	Status      ImportStatus `json:"status"`
	IdentityID  string       `json:"identity_id,omitempty"`
	Error       string       `json:"error,omitempty"`
}

// ReportEntry returns the report line for an outcome.
func (o ImportOutcome) ReportEntry() ImportReportEntry {
	e := ImportReportEntry{
		Index:       o.Index,
		Line:        o.Line,
		Identifiers: o.Identifiers,
		ExternalID:  o.ExternalID,
		Status:      o.Status,
		IdentityID:  o.IdentityID,
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
	keys       uint64 // fingerprint of identifiers and external id
	identityID string
}

// Done is the number of items the earlier run completed.
func (r *ImportResume) Done() int {
	if r == nil {
		return 0
	}
	return len(r.done)
}

// lookup returns the identity id of a completed item, when the report has
// the item at index with the same identifiers and external id.
func (r *ImportResume) lookup(index int, identifiers []string, externalID string) (string, bool) {
	if r == nil {
		return "", false
	}
	e, ok := r.done[index]
	if !ok || e.keys != keyFingerprint(identifiers, externalID) {
		return "", false
	}
	return e.identityID, true
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
// created, already present or skipped (with an identity id) count as done;
// everything else is imported again. A last line cut off mid-way (the run
// was killed while writing it) is ignored; any other bad line is an error.
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
			if uerr := json.Unmarshal(t, &e); uerr != nil || e.Index < 0 {
				if last && !bytes.HasSuffix(b, []byte("\n")) {
					break // a line cut off by a crash
				}
				if uerr == nil {
					uerr = errors.New("negative index")
				}
				return nil, fmt.Errorf("kratos: import report line %d: %w", line, uerr)
			}
			switch e.Status {
			case ImportCreated, ImportAlreadyPresent, ImportSkipped:
				if e.IdentityID != "" {
					res.done[e.Index] = resumeEntry{keys: keyFingerprint(e.Identifiers, e.ExternalID), identityID: e.IdentityID}
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
