package residency

import (
	"bytes"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestReadOnlyMappings(t *testing.T) {
	const exe = "/work/bin/opsconform"
	tests := []struct {
		name string
		maps string
		file string
		want []mapping
	}{
		{
			name: "code and read-only data, not data, bss, heap or other files",
			maps: `00400000-00fcf000 r-xp 00000000 fe:00 9978433                            /work/bin/opsconform
00fcf000-01f8b000 r--p 00bcf000 fe:00 9978433                            /work/bin/opsconform
01f8b000-0211f000 rw-p 01b8b000 fe:00 9978433                            /work/bin/opsconform
0211f000-04177000 rw-p 00000000 00:00 0 
7f9558eb9000-7f9558ebd000 r--p 00000000 00:00 0                          [vvar]
7f9558ebf000-7f9558ec1000 r-xp 00000000 00:00 0                          [vdso]
7f0000000000-7f0000100000 r-xp 00000000 fe:00 12                         /usr/lib/x86_64-linux-gnu/libc.so.6
`,
			file: exe,
			want: []mapping{{0x400000, 0xfcf000}, {0xfcf000, 0x1f8b000}},
		},
		{
			name: "a path with spaces, replaced while running",
			maps: "00400000-00500000 r-xp 00000000 fe:00 7     /tmp/my builds/opsconform (deleted)\n" +
				"00500000-00600000 rw-p 00100000 fe:00 7     /tmp/my builds/opsconform (deleted)\n",
			file: "/tmp/my builds/opsconform (deleted)",
			want: []mapping{{0x400000, 0x500000}},
		},
		{
			name: "guard pages, shared mappings and a prefix of the path are not it",
			maps: "00400000-00500000 ---p 00000000 fe:00 7 /work/bin/opsconform\n" +
				"00500000-00600000 r--s 00000000 fe:00 7 /work/bin/opsconform\n" +
				"00600000-00700000 r-xp 00000000 fe:00 8 /work/bin/opsconform-load\n",
			file: exe,
		},
		{
			name: "lines it cannot read are skipped, not guessed",
			maps: "zz-00500000 r-xp 00000000 fe:00 7 /work/bin/opsconform\n" +
				"00600000-00500000 r-xp 00000000 fe:00 7 /work/bin/opsconform\n" +
				"00400000 r-xp 00000000 fe:00 7 /work/bin/opsconform\n" +
				"00400000-00500000 r-xp\n" +
				"\n" +
				"00700000-00800000 r-xp 00000000 fe:00 7 /work/bin/opsconform",
			file: exe,
			want: []mapping{{0x700000, 0x800000}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readOnlyMappings([]byte(tt.maps), tt.file)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("readOnlyMappings = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestUnmapExecutableShrinksRSS drops this test binary's code from its own
// page tables and goes on running it: RssFile falls, the mappings stay (only
// their pages went), and the code that runs after (the read of the status,
// the parse, the test's own ending) faults back in.
func TestUnmapExecutableShrinksRSS(t *testing.T) {
	mapped := selfMappings(t)
	before := rssFile(t)
	n, err := UnmapExecutable()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	if n == 0 || len(mapped) == 0 {
		t.Fatal("UnmapExecutable found no read-only mapping of /proc/self/exe")
	}
	if after >= before {
		t.Errorf("RssFile %d kB before UnmapExecutable, %d kB after; want it to fall", before, after)
	}
	if again := selfMappings(t); !reflect.DeepEqual(again, mapped) {
		t.Errorf("the executable's read-only mappings were %v before the drop and %v after; want them kept", mapped, again)
	}
	Release()
}

// selfMappings are the read-only mappings of the running test binary.
func selfMappings(t *testing.T) []mapping {
	t.Helper()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return readOnlyMappings(maps, exe)
}

func rssFile(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(status) {
		if v, ok := bytes.CutPrefix(line, []byte("RssFile:")); ok {
			f := strings.Fields(string(v))
			kb, err := strconv.Atoi(f[0])
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
