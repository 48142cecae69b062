package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
)

// minControlToken is the shortest --control-token accepted: anyone who can
// reach the port may guess at it.
const minControlToken = 16

// controlToken decides the control API's token for a mock listening on
// addr: the one given (checked), or, when addr is reachable from other
// machines and none was given, a new random one that the banner prints.
// On loopback without one the control API stays open.
func controlToken(given, addr string) (token string, generated bool, err error) {
	if given != "" {
		if len(given) < minControlToken {
			return "", false, usageError{fmt.Sprintf("--control-token: %d characters is too short to resist guessing; give at least %d", len(given), minControlToken)}
		}
		for _, c := range given {
			if c <= ' ' || c > '~' {
				return "", false, usageError{"--control-token: use printable ASCII without spaces, as an HTTP bearer token must be"}
			}
		}
		return given, false, nil
	}
	if loopbackOnly(addr) {
		return "", false, nil
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b), true, nil
}

// loopbackOnly reports whether a listen address (HOST:PORT) accepts
// connections from this machine only: localhost, or a host whose every
// address is a loopback one. An empty host or an unspecified address
// (0.0.0.0, ::) listens everywhere; a name that cannot be resolved counts
// as reachable, to be safe.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	if host == "" {
		return false
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}
