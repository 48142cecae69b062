package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/opsconform/opsconform/specs"
	"github.com/spf13/pflag"
)

// selection is the profiles a command works on: embedded ones by name and spec files.
type selection struct {
	profiles []string
	specs    []string
}

func (s *selection) register(fs *pflag.FlagSet) {
	fs.StringSliceVar(&s.profiles, "profile", nil, "embedded profile to use, repeatable or comma-separated (default: all, or none when --spec is given)")
	fs.StringArrayVar(&s.specs, "spec", nil, "OpenAPI 3 description `FILE` to load as a profile, repeatable")
}

// loadEmbedded models embedded descriptions; a test counts what it models.
var loadEmbedded = specs.LoadEmbedded

// load models the selected profiles: every --spec file, and the embedded
// profiles --profile names (all of them when neither flag is given). A
// --profile name may also be a --spec file's profile name, the one
// `profiles --spec` prints: it selects that spec, which is loaded anyway.
// Only the embedded descriptions selected are modelled: a mock of one
// vendor, or of a --spec alone, keeps no model of the others.
func (s *selection) load() ([]*specs.Profile, error) {
	var fromSpecs []*specs.Profile
	specNames := map[string]bool{}
	for _, f := range s.specs {
		p, err := specs.LoadFile(f)
		if err != nil {
			return nil, err
		}
		fromSpecs = append(fromSpecs, p)
		specNames[p.Name] = true
	}
	var out []*specs.Profile
	switch {
	case len(s.profiles) > 0:
		isEmbedded := map[string]bool{}
		for _, n := range specs.EmbeddedNames() {
			isEmbedded[n] = true
		}
		var picked []string
		for _, n := range s.profiles {
			n = strings.TrimSpace(n)
			if specNames[n] {
				continue
			}
			if !isEmbedded[n] {
				names := specs.EmbeddedNames()
				for _, sp := range fromSpecs {
					names = append(names, sp.Name)
				}
				return nil, usageError{fmt.Sprintf("unknown profile %q (profiles: %s)", n, strings.Join(names, ", "))}
			}
			picked = append(picked, n)
		}
		if len(picked) > 0 {
			embedded, err := loadEmbedded(picked...)
			if err != nil {
				return nil, err
			}
			byName := map[string]*specs.Profile{}
			for _, p := range embedded {
				byName[p.Name] = p
			}
			for _, n := range picked {
				out = append(out, byName[n]) // in the order named; a name twice is refused below
			}
		}
	case len(s.specs) == 0:
		embedded, err := loadEmbedded()
		if err != nil {
			return nil, err
		}
		out = embedded
	}
	out = append(out, fromSpecs...)
	seen := map[string]string{}
	for _, p := range out {
		if prev, dup := seen[p.Name]; dup {
			return nil, usageError{fmt.Sprintf("two profiles are named %q (%s and %s); name one differently with x-opsconform-profile.name", p.Name, prev, p.File)}
		}
		seen[p.Name] = p.File
	}
	return out, nil
}

// warn prints each profile's load warnings, one line each.
func warn(errOut io.Writer, cmd string, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(errOut, "opsconform %s: warning: %s\n", cmd, w)
	}
}

type profilesOptions struct {
	selection
	format string
}

func profilesCommand() *command {
	return &command{
		name:    "profiles",
		summary: "list the profiles with their auth, envelope, pagination and rate limits",
		usage:   "[--profile NAME]... [--spec FILE]... [--format text|json|markdown]",
		long: `List each profile's documented behaviour, as read from its OpenAPI description:
the auth mode, the success and error envelopes, pagination with its defaults and
maxima, and the rate limits per operation class. --format markdown prints instead
the operations each profile serves and where each is documented (its
externalDocs, else the profile's source): README's operations table.`,
		flags: func(fs *pflag.FlagSet) any {
			o := &profilesOptions{}
			o.selection.register(fs)
			fs.StringVar(&o.format, "format", "text", "output format: text, json, or markdown (the operations served, as README lists them)")
			return o
		},
		run: runProfiles,
	}
}

func runProfiles(_ context.Context, opts any, out, errOut io.Writer) error {
	o := opts.(*profilesOptions)
	if o.format != "text" && o.format != "json" && o.format != "markdown" {
		return usageError{fmt.Sprintf("--format %q: want text, json or markdown", o.format)}
	}
	ps, err := o.load()
	if err != nil {
		return err
	}
	for _, p := range ps {
		warn(errOut, "profiles", p.Warnings)
	}
	if o.format == "markdown" {
		_, err := io.WriteString(out, specs.OperationsMarkdown(ps))
		return err
	}
	if o.format == "json" {
		type row struct {
			Name       string `json:"name"`
			Title      string `json:"title"`
			File       string `json:"file"`
			BasePath   string `json:"basePath"`
			Auth       string `json:"auth"`
			Envelope   string `json:"envelope"`
			Pagination string `json:"pagination"`
			RateLimits string `json:"rateLimits"`
			Operations int    `json:"operations"`
		}
		rows := []row{}
		for _, p := range ps {
			rows = append(rows, row{p.Name, p.Title, p.File, p.BasePath, p.Auth.Describe(), p.DescribeEnvelope(), p.Pagination.Describe(), p.RateLimits.Describe(), len(p.Operations)})
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tAUTH\tENVELOPE\tPAGINATION\tRATE LIMITS\tOPS")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", p.Name, p.Auth.Describe(), p.DescribeEnvelope(), p.Pagination.Describe(), p.RateLimits.Describe(), len(p.Operations))
	}
	return tw.Flush()
}
