package bench

import (
	"encoding/json"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/go-faster/jx"
	goccy "github.com/goccy/go-json"
	segment "github.com/segmentio/encoding/json"

	ogen "github.com/kratosadmin/sdk/bench/ogen"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/gen"
)

// BenchmarkDecode compares the candidate codecs on the bodies of two cases,
// decoding in memory only (no HTTP): one page of 250 identities and one
// identity with credentials. Each candidate decodes into the SDK's own
// structs except ogen, which decodes into its generated types with its
// generated jx code. This is how the SDK's codec was chosen (README.md).
func BenchmarkDecode(b *testing.B) {
	page, _ := identityPage(nil, 0, walkTotal)
	one := appendIdentity(nil, getIdentityID, 7, true, true)
	type decoder struct {
		name string
		page func([]byte) error
		one  func([]byte) error
	}
	std := func(u func([]byte, any) error) decoder {
		return decoder{
			page: func(b []byte) error { var v []client.Identity; return u(b, &v) },
			one:  func(b []byte) error { var v client.Identity; return u(b, &v) },
		}
	}
	decs := []decoder{}
	for _, d := range []struct {
		name string
		u    func([]byte, any) error
	}{
		{"encoding-json", json.Unmarshal},
		{"generated", gen.DecodeJSON},
		{"goccy-go-json", goccy.Unmarshal},
		{"segmentio", segment.Unmarshal},
		{"sonic", sonic.Unmarshal},
	} {
		dec := std(d.u)
		dec.name = d.name
		decs = append(decs, dec)
	}
	decs = append(decs, decoder{
		name: "ogen-jx",
		page: func(b []byte) error {
			var out []ogen.Identity
			return jx.DecodeBytes(b).Arr(func(d *jx.Decoder) error {
				var e ogen.Identity
				if err := e.Decode(d); err != nil {
					return err
				}
				out = append(out, e)
				return nil
			})
		},
		one: func(b []byte) error { var v ogen.Identity; return v.Decode(jx.DecodeBytes(b)) },
	})
	for _, body := range []struct {
		name string
		data []byte
		page bool
	}{{"ListIdentitiesPage", page, true}, {"GetIdentity", one, false}} {
		for _, d := range decs {
			f := d.one
			if body.page {
				f = d.page
			}
			if err := f(body.data); err != nil {
				b.Fatalf("%s: %v", d.name, err)
			}
			b.Run(body.name+"/"+d.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body.data)))
				for b.Loop() {
					if err := f(body.data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
