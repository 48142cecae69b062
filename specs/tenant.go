package specs

import (
	"net"
	"strings"
)

// SameTenant reports whether a request's host names a key's tenant (the
// Ivanti binding: a key works only for the tenant it was made for). Host
// names compare case-insensitively, and the loopback names (localhost,
// 127.0.0.1, [::1]) are one tenant: one machine. The mock admits by it and
// the suites' preflight predicts the mock's answer with it.
func SameTenant(host, tenant string) bool {
	return strings.EqualFold(host, tenant) || isLoopbackName(host) && isLoopbackName(tenant)
}

func isLoopbackName(h string) bool {
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback()
	}
	return strings.EqualFold(h, "localhost")
}
