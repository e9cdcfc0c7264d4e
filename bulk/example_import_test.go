package bulk_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/kratosadmin/sdk/bulk"
)

func ExampleImportJSONL() {
	srv, c := startFake() // kratostest, an in-memory Kratos
	defer srv.Close()

	input := strings.NewReader(`{"schema_id":"default","traits":{"email":"ada@example.org"}}
{"schema_id":"default","traits":{"email":"grace@example.org"},"credentials":{"password":{"config":{"password":"hopper-1906"}}}}
{"schema_id":"default","traits":{"email":"ADA@example.org "}}
not json
`)
	sum, err := bulk.ImportJSONL(context.Background(), c, input, &bulk.ImportOptions{
		HashPasswords: true, // bcrypt here: the server gets hashed_password
		HashCost:      4,
		OnOutcome: func(o bulk.ImportOutcome) {
			if o.Err != nil {
				fmt.Printf("line %d: %s: %v\n", o.Line, o.Status, o.Err)
				return
			}
			fmt.Printf("line %d: %s %v\n", o.Line, o.Status, o.Identifiers)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d items: %d created, %d failed\n", sum.Total, sum.Created, sum.Failed)
	// Unordered output:
	// line 1: created [ada@example.org]
	// line 2: created [grace@example.org]
	// line 3: failed: duplicate of line 1: same identifier ada@example.org
	// line 4: failed: line 4: invalid JSON at byte 2: invalid character 'o' in literal null (expecting 'u')
	// 4 items: 2 created, 2 failed
}
