package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/opsconform/opsconform/mock"
	"github.com/spf13/pflag"
)

type mockOptions struct {
	selection
	addr string
}

func mockCommand() *command {
	return &command{
		name:    "mock",
		summary: "serve the mock of the profiles' documented behaviour",
		usage:   "[--addr HOST:PORT] [--profile NAME]... [--spec FILE]...",
		long: `Serve the mock on --addr: every embedded profile by default (their base paths
do not collide), the ones named with --profile, or any OpenAPI 3 file with --spec.
The control API lives under /__opsconform/ (health, profiles).`,
		flags: func(fs *pflag.FlagSet) any {
			o := &mockOptions{}
			fs.StringVar(&o.addr, "addr", "127.0.0.1:8060", "address to listen on")
			o.selection.register(fs)
			return o
		},
		run: runMock,
	}
}

func runMock(ctx context.Context, opts any, out, _ io.Writer) error {
	o := opts.(*mockOptions)
	ps, err := o.load()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v", o.addr, err)
	}
	srv := &http.Server{
		Handler:           mock.New(ps),
		ReadHeaderTimeout: 10 * time.Second,
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "opsconform mock listening on %s\n", base)
	for _, p := range ps {
		fmt.Fprintf(out, "  %-20s %s%s  (%s)\n", p.Name, base, p.BasePath, p.Auth.Describe())
	}
	fmt.Fprintf(out, "  control API          %s%s\n", base, mock.ControlPrefix)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			return err
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
