package sysmem

import (
	"strings"
	"testing"
	"testing/fstest"
)

const meminfo = "MemTotal:       24683620 kB\nMemFree:        22161344 kB\nMemAvailable:   16777216 kB\nBuffers:           43704 kB\n"

// v1Mounts is a host's mountinfo with cgroup v1 controllers and an empty
// v2 hierarchy beside them (the hybrid layout of this machine).
const v1Mounts = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

const v2Mounts = "25 22 0:24 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

const gib = 1 << 30

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		name   string
		fs     fstest.MapFS
		want   Limit
		source string
	}{
		{"meminfo only", fstest.MapFS{"proc/meminfo": file(meminfo)},
			Limit{Available: 16 * gib, MemAvailable: 16 * gib}, "/proc/meminfo MemAvailable"},
		{"nothing known", fstest.MapFS{}, Limit{}, ""},
		{"v1 limit less usage without inactive file cache", fstest.MapFS{
			"proc/meminfo":        file(meminfo),
			"proc/self/cgroup":    file("9:name=systemd:/\n4:memory:/jobs/a\n0::/\n"),
			"proc/self/mountinfo": file(v1Mounts),
			"sys/fs/cgroup/memory/memory.limit_in_bytes":        file("9223372036854771712\n"),
			"sys/fs/cgroup/memory/memory.usage_in_bytes":        file("5000000000\n"),
			"sys/fs/cgroup/memory/jobs/a/memory.limit_in_bytes": file("2147483648\n"),
			"sys/fs/cgroup/memory/jobs/a/memory.usage_in_bytes": file("1073741824\n"),
			"sys/fs/cgroup/memory/jobs/a/memory.stat":           file("cache 900000000\ninactive_file 1\ntotal_inactive_file 536870912\n"),
			"sys/fs/cgroup/unified/cgroup.procs":                file(""),
		}, Limit{Available: 1610612736, Cap: 2 * gib, Used: gib, MemAvailable: 16 * gib},
			"/sys/fs/cgroup/memory/jobs/a/memory.limit_in_bytes"},
		{"v1 unlimited falls back to MemAvailable", fstest.MapFS{
			"proc/meminfo":        file(meminfo),
			"proc/self/cgroup":    file("4:memory:/x\n"),
			"proc/self/mountinfo": file(v1Mounts),
			"sys/fs/cgroup/memory/x/memory.limit_in_bytes": file("9223372036854771712\n"),
			"sys/fs/cgroup/memory/x/memory.usage_in_bytes": file("3000000\n"),
		}, Limit{Available: 16 * gib, MemAvailable: 16 * gib}, "/proc/meminfo MemAvailable"},
		{"v2 nested: the parent's headroom is smaller than the child's", fstest.MapFS{
			"proc/meminfo":                                      file(meminfo),
			"proc/self/cgroup":                                  file("0::/user.slice/job.scope\n"),
			"proc/self/mountinfo":                               file(v2Mounts),
			"sys/fs/cgroup/cgroup.procs":                        file(""),
			"sys/fs/cgroup/user.slice/memory.max":               file("8589934592\n"),
			"sys/fs/cgroup/user.slice/memory.current":           file("7516192768\n"),
			"sys/fs/cgroup/user.slice/memory.stat":              file("anon 1\ninactive_file 0\n"),
			"sys/fs/cgroup/user.slice/job.scope/memory.max":     file("4294967296\n"),
			"sys/fs/cgroup/user.slice/job.scope/memory.high":    file("max\n"),
			"sys/fs/cgroup/user.slice/job.scope/memory.current": file("1073741824\n"),
			"sys/fs/cgroup/user.slice/job.scope/memory.stat":    file("inactive_file 268435456\n"),
		}, Limit{Available: gib, Cap: 4 * gib, Used: gib, MemAvailable: 16 * gib},
			"/sys/fs/cgroup/user.slice/memory.max"},
		{"v2 memory.high below memory.max", fstest.MapFS{
			"proc/self/cgroup":               file("0::/a\n"),
			"proc/self/mountinfo":            file(v2Mounts),
			"sys/fs/cgroup/a/memory.max":     file("max\n"),
			"sys/fs/cgroup/a/memory.high":    file("1073741824\n"),
			"sys/fs/cgroup/a/memory.current": file("0\n"),
		}, Limit{Available: gib, Cap: gib}, "/sys/fs/cgroup/a/memory.high"},
		{"v2 inside a cgroup namespace: the mount root is the cgroup", fstest.MapFS{
			"proc/self/cgroup":             file("0::/\n"),
			"proc/self/mountinfo":          file("25 22 0:24 /kubepods/pod1 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n"),
			"sys/fs/cgroup/memory.max":     file("536870912\n"),
			"sys/fs/cgroup/memory.current": file("134217728\n"),
		}, Limit{Available: 402653184, Cap: 512 << 20, Used: 128 << 20}, "/sys/fs/cgroup/memory.max"},
		{"v2 unlimited everywhere", fstest.MapFS{
			"proc/meminfo":                   file(meminfo),
			"proc/self/cgroup":               file("0::/a\n"),
			"proc/self/mountinfo":            file(v2Mounts),
			"sys/fs/cgroup/a/memory.max":     file("max\n"),
			"sys/fs/cgroup/a/memory.current": file("100\n"),
		}, Limit{Available: 16 * gib, MemAvailable: 16 * gib}, "/proc/meminfo MemAvailable"},
		{"usage above the limit leaves nothing", fstest.MapFS{
			"proc/self/cgroup":               file("0::/a\n"),
			"proc/self/mountinfo":            file(v2Mounts),
			"sys/fs/cgroup/a/memory.max":     file("1000\n"),
			"sys/fs/cgroup/a/memory.current": file("5000\n"),
		}, Limit{Available: 0, Cap: 1000, Used: 5000}, "/sys/fs/cgroup/a/memory.max"},
	} {
		got, err := DetectFS(c.fs)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		c.want.Source = c.source
		if got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

func TestDetectRejectsMalformedFiles(t *testing.T) {
	base := func() fstest.MapFS {
		return fstest.MapFS{
			"proc/meminfo":                   file(meminfo),
			"proc/self/cgroup":               file("0::/a\n"),
			"proc/self/mountinfo":            file(v2Mounts),
			"sys/fs/cgroup/a/memory.max":     file("1073741824\n"),
			"sys/fs/cgroup/a/memory.current": file("0\n"),
		}
	}
	for _, c := range []struct {
		name, file, data, want string
	}{
		{"limit not a number", "sys/fs/cgroup/a/memory.max", "lots\n", "/sys/fs/cgroup/a/memory.max"},
		{"negative limit", "sys/fs/cgroup/a/memory.max", "-5\n", "/sys/fs/cgroup/a/memory.max"},
		{"usage overflowing", "sys/fs/cgroup/a/memory.current", "99999999999999999999999\n", "/sys/fs/cgroup/a/memory.current"},
		{"stat value not a number", "sys/fs/cgroup/a/memory.stat", "inactive_file x\n", "/sys/fs/cgroup/a/memory.stat: line 1"},
		{"meminfo without unit", "proc/meminfo", "MemAvailable: 12\n", "/proc/meminfo: line 1"},
		{"meminfo value not a number", "proc/meminfo", "MemTotal: 1 kB\nMemAvailable: 1x kB\n", "/proc/meminfo: line 2"},
		{"cgroup line without path", "proc/self/cgroup", "0::\n", "/proc/self/cgroup: line 1"},
		{"cgroup line of one field", "proc/self/cgroup", "garbage\n", "/proc/self/cgroup: line 1"},
		{"mountinfo line without separator", "proc/self/mountinfo", "25 22 0:24 / /sys/fs/cgroup\n", "/proc/self/mountinfo: line 1"},
		{"file too long", "proc/meminfo", strings.Repeat("x", maxFile+1), "longer than"},
	} {
		fsys := base()
		fsys[c.file] = file(c.data)
		_, err := DetectFS(fsys)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
}

// TestDetectOnThisMachine checks only that the real files parse and give
// a plausible figure: what they hold depends on the machine.
func TestDetectOnThisMachine(t *testing.T) {
	l, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", l)
	if l.MemAvailable < 0 || l.Available < 0 || (l.Cap > 0 && l.Available > l.Cap) {
		t.Errorf("implausible limit %+v", l)
	}
}
