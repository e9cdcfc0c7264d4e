package kratostest

import (
	"fmt"
	"net/http"

	"github.com/kratosadmin/sdk/gen"
)

// The Kratos releases the fake emulates (docs/compatibility.md lists what
// differs between them).
const (
	ReleaseV1_3  = "v1.3.1"
	ReleaseV25_4 = "v25.4.0"
	ReleaseV26_2 = "v26.2.0" // the default
)

// WithVersion makes the fake answer as that Kratos release does: its
// GET /admin/version, and on v1.3.1 and v25.4.0 the differences recorded
// from the real servers (testdata/exchanges/<release>/).
func WithVersion(release string) Option {
	return func(c *config) {
		switch release {
		case ReleaseV1_3, ReleaseV25_4, ReleaseV26_2:
			c.release = release
		default:
			c.errs = append(c.errs, fmt.Errorf("kratostest: WithVersion(%q): want %s, %s or %s", release, ReleaseV1_3, ReleaseV25_4, ReleaseV26_2))
		}
	}
}

// Version is the Kratos release the fake emulates.
func (s *Server) Version() string { return s.cfg.release }

// before reports whether the emulated release is older than rel.
func (s *Server) before(rel string) bool {
	order := map[string]int{ReleaseV1_3: 0, ReleaseV25_4: 1, ReleaseV26_2: 2}
	return order[s.cfg.release] < order[rel]
}

func (o operations) GetVersion(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, gen.Version{Version: o.s.cfg.release})
}
