//go:build !linux

package residency

// UnmapExecutable does nothing outside Linux, where the executable's pages
// are left to the kernel.
func UnmapExecutable() (int, error) { return 0, nil }
