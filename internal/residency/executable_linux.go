package residency

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// UnmapExecutable drops the running executable's read-only pages (its code
// and read-only data) from the process's page tables with
// madvise(MADV_DONTNEED), and reports how many bytes of mappings it asked
// for. Pages still in use fault back in from the page cache. Writable
// mappings (data, bss) are never touched: dropping one would lose what the
// process wrote there.
func UnmapExecutable() (int, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("residency: %w", err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("residency: %w", err)
	}
	n := 0
	for _, r := range readOnlyMappings(maps, exe) {
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, r.start, r.end-r.start, syscall.MADV_DONTNEED); errno != 0 {
			return n, fmt.Errorf("residency: madvise %#x-%#x: %w", r.start, r.end, errno)
		}
		n += int(r.end - r.start)
	}
	return n, nil
}

// mapping is one address range of /proc/self/maps.
type mapping struct{ start, end uintptr }

// readOnlyMappings picks from a /proc/PID/maps text the private mappings of
// file that are not writable. A line reads
//
//	00400000-00fcf000 r-xp 00000000 fe:00 9978433    /path/to/binary
//
// and the path, the rest of the line, may hold spaces or end in " (deleted)"
// when the binary was replaced while running (readlink says the same then).
// Lines it cannot read are skipped: it only ever drops less.
func readOnlyMappings(maps []byte, file string) []mapping {
	var out []mapping
	for line := range bytes.Lines(maps) {
		line = bytes.TrimRight(line, "\n")
		fields, path := splitMapsLine(line)
		if fields == nil || path != file {
			continue
		}
		perms := fields[1]
		if len(perms) != 4 || perms[0] != 'r' || perms[1] != '-' || perms[3] != 'p' {
			continue
		}
		lo, hi, ok := bytes.Cut(fields[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		out = append(out, mapping{uintptr(start), uintptr(end)})
	}
	return out
}

// splitMapsLine splits a maps line into its five leading fields (address,
// perms, offset, device, inode) and the path after them; nil fields when
// the line has fewer.
func splitMapsLine(line []byte) (fields [][]byte, path string) {
	rest := line
	fields = make([][]byte, 0, 5)
	for range 5 {
		var f []byte
		f, rest, _ = bytes.Cut(bytes.TrimLeft(rest, " "), []byte(" "))
		if len(f) == 0 {
			return nil, ""
		}
		fields = append(fields, f)
	}
	return fields, string(bytes.TrimLeft(rest, " "))
}
