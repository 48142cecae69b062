// Package residency hands back to the operating system memory that a
// long-running process keeps resident but no longer uses: the heap's free
// spans, and the pages of its own executable that only start-up ran.
//
// The second is most of a mock's idle RSS. Start-up runs code that serving
// never runs again (parsing YAML, building libopenapi's models, generating
// data, every package's init), and the kernel maps the binary around each
// page it faults in (fault-around, 64 KiB at a time), so a started mock
// keeps about 21 MiB of its 43 MiB binary mapped while serving a page maps
// under 2 MiB of it (12 MiB once every profile and auth mode has served a
// load). Those pages are clean copies of the file: unmapping
// them loses nothing, and the ones still used fault back in from the page
// cache (minor faults, no disk) the next time they run. The kernel may
// reclaim them under memory pressure at any moment anyway; Release only
// stops RSS counting code that has stopped running.
package residency

import "runtime/debug"

// Release returns the heap's free memory to the OS (debug.FreeOSMemory, a
// full collection first) and unmaps the read-only pages of the running
// executable (Linux; elsewhere only the heap). Call it after a phase that
// ran code or made garbage the process will not need again, not on a hot
// path: the collection stops the world briefly and the next requests fault
// their code back in.
func Release() {
	debug.FreeOSMemory()
	_, _ = UnmapExecutable()
}
