// Command opsconform runs a spec-driven mock of API-key-protected management
// APIs and checks any implementation against their documented behaviour.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// Exit codes, as documented in --help.
const (
	exitOK          = 0
	exitNonconform  = 1
	exitUsage       = 2
	envPrefix       = "OPSCONFORM_"
	helpFooterShort = "Every flag can also be set with an environment variable OPSCONFORM_<FLAG> (upper case, dashes as underscores); a flag on the command line wins."
)

// env looks up an environment variable; tests pass a map instead of the process environment.
type env func(string) (string, bool)

// command is one subcommand.
type command struct {
	name    string
	summary string
	usage   string // the text under "Usage:", after the command name
	long    string
	flags   func(fs *pflag.FlagSet) any
	run     func(ctx context.Context, opts any, out, errOut io.Writer) error
}

// usageError marks a mistake in how the command was called: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// nonconformance marks a run that found behaviour that breaks a MUST: exit 1.
type nonconformance struct{ msg string }

func (e nonconformance) Error() string { return e.msg }

func commands() []*command {
	return []*command{mockCommand(), checkCommand(), profilesCommand(), versionCommand()}
}

// signalled is the error of a command a signal stopped: its exit code is
// 128 plus the signal's number, as shells report it (130 for SIGINT).
type signalled struct{ sig os.Signal }

func (s signalled) Error() string { return "interrupted by " + signalName(s.sig) }

func (s signalled) code() int {
	if n, ok := s.sig.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 128 + int(syscall.SIGINT)
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

func main() {
	// The first SIGINT or SIGTERM cancels the command, which finishes what it
	// must (a check writes its reports); a second one ends the process at once.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		cancel(signalled{s})
		s = <-sigs
		os.Exit(signalled{s}.code())
	}()
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	os.Exit(code)
}

// run is the whole program: it parses args, runs one command and returns the exit code.
func run(ctx context.Context, args []string, lookup env, out, errOut io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return run(ctx, []string{args[1], "--help"}, lookup, out, errOut)
		}
		topUsage(out)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" {
		args[0] = "version"
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = c
		}
	}
	if cmd == nil {
		fmt.Fprintf(errOut, "opsconform: unknown command %q (want one of %s; see opsconform --help)\n", args[0], commandNames())
		return exitUsage
	}

	fs := pflag.NewFlagSet(cmd.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	opts := cmd.flags(fs)
	fs.BoolP("help", "h", false, "show this help")
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" {
			f.Usage += fmt.Sprintf(" [$%s]", envName(f.Name))
		}
	})
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			commandUsage(out, cmd, fs)
			return exitOK
		}
		fmt.Fprintf(errOut, "opsconform %s: %v (see opsconform %s --help)\n", cmd.name, err, cmd.name)
		return exitUsage
	}
	if help, _ := fs.GetBool("help"); help {
		commandUsage(out, cmd, fs)
		return exitOK
	}
	if err := applyEnv(fs, lookup); err != nil {
		fmt.Fprintf(errOut, "opsconform %s: %v\n", cmd.name, err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(errOut, "opsconform %s: unexpected argument %q (see opsconform %s --help)\n", cmd.name, fs.Arg(0), cmd.name)
		return exitUsage
	}
	err := cmd.run(ctx, opts, out, errOut)
	var nc nonconformance
	var sig signalled
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &sig):
		fmt.Fprintf(errOut, "opsconform %s: %v\n", cmd.name, err)
		return sig.code()
	case errors.As(err, &nc):
		fmt.Fprintf(errOut, "opsconform %s: %v\n", cmd.name, err)
		return exitNonconform
	default:
		// Configuration problems (a missing file, a broken spec, a busy port) are
		// the caller's to fix, like usage errors.
		fmt.Fprintf(errOut, "opsconform %s: %v\n", cmd.name, oneLine(err))
		return exitUsage
	}
}

// envName is the environment variable for a flag: --time-scale → OPSCONFORM_TIME_SCALE.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets every flag not given on the command line from its environment variable.
func applyEnv(fs *pflag.FlagSet, lookup env) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		v, ok := lookup(envName(f.Name))
		if !ok {
			return
		}
		if setErr := fs.Set(f.Name, v); setErr != nil {
			err = fmt.Errorf("invalid value %q for $%s: %v", v, envName(f.Name), setErr)
		}
	})
	return err
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func topUsage(w io.Writer) {
	fmt.Fprint(w, `opsconform: a spec-driven mock and conformance suites for API-key-protected
management APIs (OpManager, OpsMerge, MongoDB Ops Manager, Ivanti Service Manager).

Usage:
  opsconform <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Run 'opsconform <command> --help' for a command's flags.

Exit codes: 0 success, 1 nonconformance found, 2 usage or configuration error,
130 interrupted (SIGINT; 143 for SIGTERM).
%s
`, helpFooterShort)
}

func commandUsage(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "Usage:\n  opsconform %s %s\n\n%s\n\nFlags:\n%s\n%s\n", c.name, c.usage, strings.TrimSpace(c.long), fs.FlagUsages(), helpFooterShort)
}
