package bulk

import "sync/atomic"

// ImportPhase is what a running import is busy with.
type ImportPhase string

const (
	// ImportPhaseHashing: passwords are being pre-hashed
	// (ImportOptions.HashPasswords); batches go out as they fill.
	ImportPhaseHashing ImportPhase = "hashing"
	// ImportPhaseSending: batch requests are being sent.
	ImportPhaseSending ImportPhase = "sending"
	// ImportPhaseSettling: lookups or a walk of the identities on the
	// server settle conflicts and lost answers, or probe the input of a
	// re-run (SettleMethod says which).
	ImportPhaseSettling ImportPhase = "settling"
)

// ImportProgress is a running import's progress, for a status line. Give
// a new one in ImportOptions.Progress; the import updates it and any
// goroutine may read it at any time. Outcomes are counted through
// ImportOptions.OnOutcome.
type ImportProgress struct {
	hashed   atomic.Int64
	sent     atomic.Int64
	settling atomic.Int64
	walks    atomic.Int64 // walks under way
	hashing  atomic.Bool
	method   atomic.Value // ImportSettleMethod
}

// SettleMethod is how the import looks for identities on the server
// since it last had to ("" before it had to): see ImportSettling.
func (p *ImportProgress) SettleMethod() ImportSettleMethod {
	m, _ := p.method.Load().(ImportSettleMethod)
	return m
}

func (p *ImportProgress) setSettleMethod(m ImportSettleMethod) {
	if p != nil {
		p.method.Store(m)
	}
}

// Hashed is the number of items whose passwords were pre-hashed (or left
// as they were).
func (p *ImportProgress) Hashed() int { return int(p.hashed.Load()) }

// Sent is the number of items in batch requests the server answered,
// resends included.
func (p *ImportProgress) Sent() int { return int(p.sent.Load()) }

// Settling is the number of items waiting to be looked for, or being
// looked for.
func (p *ImportProgress) Settling() int { return int(p.settling.Load()) }

// Phase is what the import is busy with now: settling while items are
// looked for,
// else hashing while passwords are hashed, else sending.
func (p *ImportProgress) Phase() ImportPhase {
	switch {
	case p.walks.Load() > 0:
		return ImportPhaseSettling
	case p.hashing.Load():
		return ImportPhaseHashing
	}
	return ImportPhaseSending
}

// The importer's updates; p may be nil.

func (p *ImportProgress) addHashed() {
	if p != nil {
		p.hashed.Add(1)
	}
}

func (p *ImportProgress) addSent(n int) {
	if p != nil {
		p.sent.Add(int64(n))
	}
}

func (p *ImportProgress) addSettling(n int) {
	if p != nil {
		p.settling.Add(int64(n))
	}
}

func (p *ImportProgress) walking(delta int64) {
	if p != nil {
		p.walks.Add(delta)
	}
}

func (p *ImportProgress) setHashing(on bool) {
	if p != nil {
		p.hashing.Store(on)
	}
}
