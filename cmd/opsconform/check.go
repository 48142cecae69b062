package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/pflag"
)

func checkCommand() *command {
	return &command{
		name:    "check",
		summary: "run the conformance suites against a server (not built yet)",
		usage:   "--target URL --profile NAME",
		long: `Run a profile's conformance suite against a real server or the mock.
The suites are not built yet: this command only reports that, with exit code 2.`,
		flags: func(*pflag.FlagSet) any { return nil },
		run: func(context.Context, any, io.Writer, io.Writer) error {
			return errors.New("the conformance suites are not built yet")
		},
	}
}
