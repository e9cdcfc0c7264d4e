package bulk_test

import (
	"encoding/json"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"testing"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Run with: go test -run='^$' -bench='Import10k|Prehash' -count=3 ./client

const benchN = 10000

// benchPeople yields n identities whose emails are unique to the round.
func benchPeople(round, n int) iter.Seq2[client.CreateIdentityBody, error] {
	return func(yield func(client.CreateIdentityBody, error) bool) {
		for i := range n {
			b := client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(fmt.Sprintf(`{"email":"r%d-user%05d@example.org"}`, round, i))}
			if !yield(b, nil) {
				return
			}
		}
	}
}

// BenchmarkImport10k compares importing 10,000 identities with the
// importer (batches of 1,000, 4 in flight) against one Create call per
// identity, sequentially and from 4 goroutines, in the same run against
// the same fake: kratostest with its default schema, a fresh server for
// each variant so that none pays for the identities of another.
func BenchmarkImport10k(b *testing.B) {
	b.Run("Import", func(b *testing.B) {
		c := kratostest.NewServer(b).Client()
		round := 0
		for b.Loop() {
			round++
			sum, err := bulk.Import(b.Context(), c, benchPeople(round, benchN), nil)
			if err != nil || sum.Created != benchN {
				b.Fatalf("%+v %v", sum, err)
			}
		}
		b.ReportMetric(float64(benchN*b.N)/b.Elapsed().Seconds(), "identities/s")
	})
	b.Run("CreateSequential", func(b *testing.B) {
		c := kratostest.NewServer(b).Client()
		round := 0
		for b.Loop() {
			round++
			for body := range benchPeople(round, benchN) {
				if _, err := c.Identities.Create(b.Context(), &body); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(benchN*b.N)/b.Elapsed().Seconds(), "identities/s")
	})
	b.Run("Create4Goroutines", func(b *testing.B) {
		c := kratostest.NewServer(b).Client()
		round := 0
		for b.Loop() {
			round++
			work := make(chan client.CreateIdentityBody)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for body := range work {
						if _, err := c.Identities.Create(b.Context(), &body); err != nil {
							b.Error(err)
						}
					}
				})
			}
			for body := range benchPeople(round, benchN) {
				work <- body
			}
			close(work)
			wg.Wait()
		}
		b.ReportMetric(float64(benchN*b.N)/b.Elapsed().Seconds(), "identities/s")
	})
}

// BenchmarkPrehash imports identities with plaintext passwords, hashing
// them with bcrypt (cost 6) on one worker against one per core, into
// kratostest (which must receive no plaintext password).
func BenchmarkPrehash(b *testing.B) {
	const n = 256
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			srv, obs := importFake(b)
			c := srv.Client()
			round := 0
			for b.Loop() {
				round++
				items := func(yield func(client.CreateIdentityBody, error) bool) {
					for body := range benchPeople(round, n) {
						body.Credentials.Password.Config.Password = fmt.Sprintf("password-%d", round)
						if !yield(body, nil) {
							return
						}
					}
				}
				sum, err := bulk.Import(b.Context(), c, items, &bulk.ImportOptions{HashPasswords: true, HashCost: 6, HashWorkers: workers})
				if err != nil || sum.Created != n || obs.plaintextReceived() != 0 {
					b.Fatalf("%+v %v", sum, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "hashes/s")
		})
	}
}
