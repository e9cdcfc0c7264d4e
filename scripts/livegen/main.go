// Command livegen writes identities for scripts/live-scale.sh: n identities
// of the default schema of ../shared/kratos (traits.email), each with the
// same bcrypt hash as hashed_password, unique to -tag. As JSON Lines for
// kratos-admin import (-out FILE.jsonl), or with -batches SIZE as PATCH
// /admin/identities bodies of SIZE items each in the directory -out.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/bcrypt"
)

type password struct {
	Config struct {
		HashedPassword string `json:"hashed_password"`
	} `json:"config"`
}

type body struct {
	SchemaID    string          `json:"schema_id"`
	Traits      json.RawMessage `json:"traits"`
	Credentials struct {
		Password password `json:"password"`
	} `json:"credentials"`
}

func main() {
	tag := flag.String("tag", "", "what makes this run's emails unique")
	n := flag.Int("n", 0, "identities")
	batches := flag.Int("batches", 0, "write batch bodies of this many items instead of JSON Lines")
	out := flag.String("out", "", "JSON Lines file, or with -batches a directory")
	flag.Parse()
	if *tag == "" || *n <= 0 || *out == "" || *batches < 0 {
		fmt.Fprintln(os.Stderr, "usage: livegen -tag TAG -n N [-batches SIZE] -out PATH")
		os.Exit(2)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("live-scale password"), 8)
	if err != nil {
		fail(err)
	}
	item := func(i int) body {
		var b body
		b.SchemaID = "default"
		b.Traits = json.RawMessage(fmt.Sprintf(`{"email":"%s-%07d@live.example.org","name":{"first":"Scale","last":"%d"}}`, *tag, i, i))
		b.Credentials.Password.Config.HashedPassword = string(hash)
		return b
	}
	if *batches == 0 {
		write(*out, func(w *bufio.Writer) {
			enc := json.NewEncoder(w)
			for i := range *n {
				if err := enc.Encode(item(i)); err != nil {
					fail(err)
				}
			}
		})
		return
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		fail(err)
	}
	for from := 0; from < *n; from += *batches {
		write(filepath.Join(*out, fmt.Sprintf("batch-%07d.json", from)), func(w *bufio.Writer) {
			type patch struct {
				Create body `json:"create"`
			}
			var b struct {
				Identities []patch `json:"identities"`
			}
			for i := from; i < min(from+*batches, *n); i++ {
				b.Identities = append(b.Identities, patch{item(i)})
			}
			if err := json.NewEncoder(w).Encode(b); err != nil {
				fail(err)
			}
		})
	}
}

func write(path string, fill func(*bufio.Writer)) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		fail(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fill(w)
	if err := w.Flush(); err != nil {
		fail(err)
	}
	if err := f.Close(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "livegen:", err)
	os.Exit(1)
}
