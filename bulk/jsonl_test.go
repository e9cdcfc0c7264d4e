package bulk_test

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/bulk"
)

func TestReadJSONL(t *testing.T) {
	input := "\xef\xbb\xbf" + `{"schema_id":"default","traits":{"email":"a@example.org"}}` + "\r\n" +
		"\n" + // blank lines are not items
		`{"schema_id":"default","traits":{"email":"b@example.org"},"credentials":{"password":{"config":{"password":"pw"}}}}` + "\n" +
		`{"schema_id":"default","traits":` + "\n" + // 4: cut off
		`{"traits":{"email":"c@example.org"}}` + "\n" + // 5: no schema_id
		`{"schema_id":"default"}` + "\n" + // 6: no traits
		`{"schema_id":"default","traits":null}` + "\n" + // 7: null traits
		`{"schema_id":"default","traits":{},"foo":1}` + "\n" + // 8: unknown field
		`{"schema_id":"default","traits":{},"credentials":{"password":{"config":{"pasword":"x"}}}}` + "\n" + // 9: unknown nested field
		`{"schema_id":"default","traits":{}} {"x":1}` + "\n" + // 10: two values
		`{"schema_id":1,"traits":{}}` + "\n" + // 11: wrong type
		`   ` + "\n" +
		`{"schema_id":"default","traits":{"email":"d@example.org"}}` // 13, no final newline

	type item struct {
		email string
		line  int
		err   string
	}
	var got []item
	for body, err := range bulk.ReadJSONL(strings.NewReader(input)) {
		if err != nil {
			var le *bulk.LineError
			require.ErrorAs(t, err, &le)
			got = append(got, item{line: le.Line, err: err.Error()})
			continue
		}
		var tr struct{ Email string }
		require.NoError(t, json.Unmarshal(body.Traits, &tr))
		got = append(got, item{email: tr.Email})
	}
	want := []struct {
		email string
		line  int
		err   string
	}{
		{email: "a@example.org"},
		{email: "b@example.org"},
		{line: 4, err: "line 4: invalid JSON"},
		{line: 5, err: "line 5: missing schema_id"},
		{line: 6, err: "line 6: missing traits"},
		{line: 7, err: "line 7: missing traits"},
		{line: 8, err: `line 8: unknown field "foo"`},
		{line: 9, err: `line 9: unknown field "pasword"`},
		{line: 10, err: "line 10: invalid JSON: more than one value"},
		{line: 11, err: "line 11: schema_id: want string"},
		{email: "d@example.org"},
	}
	require.Len(t, got, len(want))
	for i, w := range want {
		assert.Equal(t, w.email, got[i].email, "item %d", i)
		assert.Equal(t, w.line, got[i].line, "item %d", i)
		assert.True(t, strings.HasPrefix(got[i].err, w.err), "item %d: %q does not start with %q", i, got[i].err, w.err)
	}
}

func TestReadJSONLLongLineAndReadError(t *testing.T) {
	long := `{"schema_id":"default","traits":{"x":"` + strings.Repeat("a", bulk.MaxJSONLLine) + `"}}` + "\n"
	input := long + `{"schema_id":"default","traits":{}}` + "\n"
	var errs []error
	n := 0
	for _, err := range bulk.ReadJSONL(strings.NewReader(input)) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "line 1: longer than")
	assert.Equal(t, 1, n, "the line after a long one is read")

	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader(`{"schema_id":"default","traits":{}}`+"\n"), iotest.ErrReader(boom))
	var last error
	count := 0
	for _, err := range bulk.ReadJSONL(r) {
		count++
		last = err
	}
	assert.Equal(t, 2, count)
	assert.ErrorIs(t, last, bulk.ErrInputRead)
	assert.ErrorIs(t, last, boom)
}

func TestImportJSONLReportsBadLinesAndGoesOn(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	input := strings.Join([]string{
		`{"schema_id":"default","traits":{"email":"one@example.org"}}`,
		`not json`,
		`{"schema_id":"default","traits":{"email":"two@example.org"},"extra":true}`,
		``,
		`{"schema_id":"default","traits":{"email":"ONE@example.org"}}`,
		`{"schema_id":"default","traits":{"email":"three@example.org"}}`,
	}, "\n")
	o := &outcomes{}
	sum, err := bulk.ImportJSONL(t.Context(), c, strings.NewReader(input), &bulk.ImportOptions{OnOutcome: o.add})
	require.NoError(t, err)
	m := accounted(t, 5, sum, o)
	assert.Equal(t, 2, sum.Created)
	assert.Equal(t, 3, sum.Failed)
	assert.Equal(t, 1, m[0].Line)
	assert.Equal(t, 2, m[1].Line)
	assert.Contains(t, m[1].Err.Error(), "line 2: invalid JSON")
	assert.Contains(t, m[2].Err.Error(), `line 3: unknown field "extra"`)
	assert.Equal(t, 5, m[3].Line)
	assert.Contains(t, m[3].Err.Error(), "duplicate of line 1")
	assert.Equal(t, 6, m[4].Line)
	assert.Equal(t, bulk.ImportCreated, m[4].Status)
	assert.Equal(t, []int{2}, obs.sizes(), "bad lines and the duplicate are not sent")
	for _, e := range []string{"one@example.org", "three@example.org"} {
		_, ok := byEmail(t, c, e)
		assert.True(t, ok, e)
	}

	// The iterator form keeps line numbers of bad lines too.
	o = &outcomes{}
	sum, err = bulk.Import(t.Context(), c, bulk.ReadJSONL(strings.NewReader("x\n")), &bulk.ImportOptions{OnOutcome: o.add})
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Failed)
	assert.Equal(t, 1, o.byIndex(t)[0].Line)

	// A failing reader ends the import with an error after the items read.
	o = &outcomes{}
	r := io.MultiReader(strings.NewReader(`{"schema_id":"default","traits":{"email":"four@example.org"}}`+"\n"), iotest.ErrReader(errors.New("gone")))
	sum, err = bulk.ImportJSONL(t.Context(), c, r, &bulk.ImportOptions{OnOutcome: o.add})
	require.ErrorIs(t, err, bulk.ErrInputRead)
	accounted(t, 2, sum, o)
	assert.Equal(t, 1, sum.Created)
	assert.Equal(t, 3, srv.IdentityCount())
	noDuplicates(t, c, srv, obs)
}
