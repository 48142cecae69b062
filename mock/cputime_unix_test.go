//go:build unix

package mock

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used, user and system, every
// thread and the garbage collector included.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
