package suites

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// env is what every check of one run shares.
type env struct {
	ctx      context.Context
	profile  *specs.Profile
	target   *url.URL
	creds    *Credentials
	timeout  time.Duration
	maxWait  time.Duration
	redact   *redactor
	base     http.RoundTripper
	isMock   bool // the target answers the mock's control API
	sleep    func(context.Context, time.Duration) error
	progress io.Writer // notes for the person watching; never nil

	// runUser is a user the run created on the mock for the checks that
	// deactivate an owner; empty when there is none.
	runUser string
	// provisioned are the mock's IDs of the keys the run made, by role.
	provisioned map[string]string

	burstState    burstState
	rateTolerance float64                    // against a real server: how far the admitted count may stray, as a fraction of the limit
	usedBy        map[string]map[string]bool // requirement ID → credential roles its check asked for
	largest       *listOf                    // the largest paginated list, found once
	walk          *walk                      // the walk through it, shared by the paging checks

	// The generic checks' memo (suites/generic.go): the valid sweep's
	// exchanges and the ids found per collection. Checks run one at a time.
	sweepDone   bool
	sweepResult []exchange
	ids         map[string]string
}

// note tells the person watching what the run is doing, when it is not
// judging: waits, set-up it could or could not do.
func (e *env) note(format string, args ...any) {
	fmt.Fprintf(e.progress, "         "+format+"\n", args...)
}
