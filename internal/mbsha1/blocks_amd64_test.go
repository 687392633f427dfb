package mbsha1

import (
	"os"
	"strings"
	"testing"
)

// TestHasSHAMatchesTheKernel compares the CPUID bit with the flag Linux
// reports for the SHA extensions.
func TestHasSHAMatchesTheKernel(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo:", err)
	}
	for _, line := range strings.Split(string(info), "\n") {
		name, flags, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) != "flags" {
			continue
		}
		want := false
		for _, f := range strings.Fields(flags) {
			want = want || f == "sha_ni"
		}
		if got := hasSHA(); got != want {
			t.Errorf("hasSHA() = %v; /proc/cpuinfo's flags say %v", got, want)
		}
		return
	}
	t.Skip("no flags line in /proc/cpuinfo")
}
