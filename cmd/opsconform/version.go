package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the module version from the build info, or "devel".
var version = ""

func versionString() string {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return fmt.Sprintf("opsconform %s (%s %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version",
		long:    "Print opsconform's version and the Go toolchain it was built with.",
		flags:   func(*pflag.FlagSet) any { return nil },
		run: func(_ context.Context, _ any, out, _ io.Writer) error {
			_, err := fmt.Fprintln(out, versionString())
			return err
		},
	}
}
