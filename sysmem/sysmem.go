// Package sysmem finds how much memory the process may use: the limit of
// its memory cgroup (v2 memory.max and memory.high, v1
// memory.limit_in_bytes, each level of the hierarchy up to the root), less
// what the cgroup already holds beyond reclaimable file cache, and the
// system's MemAvailable (/proc/meminfo), whichever is smaller.
//
// Everything is read from an fs.FS rooted at "/", so that tests can hand it
// fake trees; files are read with a size bound, and malformed files give
// errors naming the file, never panics.
package sysmem

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
)

// Limit is the memory the process may use.
type Limit struct {
	// Available is how many more bytes the process may take: the smallest
	// of MemAvailable and, for each cgroup level with a limit, the limit
	// less the level's usage not counting its inactive file cache (which
	// the kernel reclaims before it charges the cap). 0 when nothing was
	// found.
	Available int64
	// Cap is the smallest cgroup limit on the path to the root (0: none).
	Cap int64
	// Used is the usage of the level whose limit is Cap.
	Used int64
	// MemAvailable is the system's MemAvailable (0: not found).
	MemAvailable int64
	// Source names what decided Available: a cgroup file or /proc/meminfo.
	Source string
}

// Unlimited is the value a cgroup v1 limit of "no limit" reads as (the
// largest page-aligned int64); values at or above it mean no limit, as
// does "max" in cgroup v2.
const Unlimited = 9223372036854771712

// maxFile bounds the bytes read from one file under /proc or /sys.
const maxFile = 1 << 20

// Detect finds the limit of the running process from the real file
// system.
func Detect() (Limit, error) { return DetectFS(os.DirFS("/")) }

// DetectFS finds the limit of the process described by fsys, a file
// system rooted at "/" holding proc/self/cgroup, proc/self/mountinfo,
// proc/meminfo and the cgroup mounts. Missing files mean the mechanism is
// absent; a file that is present but malformed is an error.
func DetectFS(fsys fs.FS) (Limit, error) {
	var l Limit
	avail, err := memAvailable(fsys)
	if err != nil {
		return Limit{}, err
	}
	if avail > 0 {
		l.Available, l.MemAvailable, l.Source = avail, avail, "/proc/meminfo MemAvailable"
	}
	levels, err := cgroupLevels(fsys)
	if err != nil {
		return Limit{}, err
	}
	for _, lv := range levels {
		if lv.limit <= 0 {
			continue
		}
		if l.Cap == 0 || lv.limit < l.Cap {
			l.Cap, l.Used = lv.limit, lv.usage
		}
		free := max(lv.limit-max(lv.usage-lv.inactiveFile, 0), 0)
		if l.Source == "" || free < l.Available {
			l.Available, l.Source = free, "/"+lv.limitFile
		}
	}
	return l, nil
}

// level is one cgroup directory on the path from the process's cgroup to
// the root of its hierarchy.
type level struct {
	limitFile    string // the file the limit was read from
	limit        int64  // 0: none
	usage        int64
	inactiveFile int64
}

// cgroupLevels returns the levels with memory accounting of the process's
// cgroup, innermost first: of the v2 hierarchy if it has the memory
// controller, else of the v1 memory hierarchy.
func cgroupLevels(fsys fs.FS) ([]level, error) {
	self, err := readSmall(fsys, "proc/self/cgroup")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	mounts, err := readSmall(fsys, "proc/self/mountinfo")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v1, v2, err := parseProcCgroup(self)
	if err != nil {
		return nil, err
	}
	mv1, mv2, err := parseMountinfo(mounts)
	if err != nil {
		return nil, err
	}
	var out []level
	if v2 != "" && mv2.point != "" {
		out, err = walk(fsys, mv2, v2, readV2Level)
		if err != nil || len(out) > 0 {
			return out, err
		}
	}
	if v1 != "" && mv1.point != "" {
		return walk(fsys, mv1, v1, readV1Level)
	}
	return out, nil
}

// mount is where a cgroup hierarchy is mounted and which of its cgroups is
// the root of the mount (not "/" inside a cgroup namespace or a bind mount).
type mount struct{ point, root string }

// walk reads the levels from the directory of cgroup path cg up to the
// mount's root. A level whose directory is missing (a cgroup outside the
// mount) is skipped.
func walk(fsys fs.FS, m mount, cg string, read func(fs.FS, string) (level, bool, error)) ([]level, error) {
	rel := cg
	if m.root != "/" {
		if r, ok := strings.CutPrefix(cg, m.root); ok && (r == "" || r[0] == '/') {
			rel = r
		} else {
			rel = "/"
		}
	}
	rel = path.Clean("/" + rel)
	var out []level
	for {
		dir := strings.TrimPrefix(path.Join(m.point, rel), "/")
		lv, ok, err := read(fsys, dir)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, lv)
		}
		if rel == "/" {
			return out, nil
		}
		rel = path.Dir(rel)
	}
}

// readV2Level reads memory.max, memory.high, memory.current and the
// inactive_file of memory.stat in dir; ok is false when dir has no
// memory.current (the root, or no memory controller).
func readV2Level(fsys fs.FS, dir string) (level, bool, error) {
	cur, ok, err := readNumber(fsys, path.Join(dir, "memory.current"))
	if err != nil || !ok {
		return level{}, false, err
	}
	lv := level{usage: cur}
	for _, name := range []string{"memory.max", "memory.high"} {
		f := path.Join(dir, name)
		v, ok, err := readNumber(fsys, f)
		if err != nil {
			return level{}, false, err
		}
		if ok && v > 0 && (lv.limit == 0 || v < lv.limit) {
			lv.limit, lv.limitFile = v, f
		}
	}
	lv.inactiveFile, err = statValue(fsys, path.Join(dir, "memory.stat"), "inactive_file")
	return lv, true, err
}

// readV1Level reads memory.limit_in_bytes, memory.usage_in_bytes and the
// total_inactive_file of memory.stat in dir.
func readV1Level(fsys fs.FS, dir string) (level, bool, error) {
	f := path.Join(dir, "memory.limit_in_bytes")
	lim, ok, err := readNumber(fsys, f)
	if err != nil || !ok {
		return level{}, false, err
	}
	usage, _, err := readNumber(fsys, path.Join(dir, "memory.usage_in_bytes"))
	if err != nil {
		return level{}, false, err
	}
	lv := level{limitFile: f, limit: lim, usage: usage}
	lv.inactiveFile, err = statValue(fsys, path.Join(dir, "memory.stat"), "total_inactive_file")
	return lv, true, err
}

// readNumber reads a file holding one byte count, "max" or a count at or
// above Unlimited meaning no limit (0). ok is false if the file is missing.
func readNumber(fsys fs.FS, name string) (v int64, ok bool, err error) {
	b, err := readSmall(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	s := string(bytes.TrimSpace(b))
	if s == "max" {
		return 0, true, nil
	}
	u, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("sysmem: /%s: %q is not a byte count", name, truncate(s))
	}
	if u >= Unlimited {
		return 0, true, nil
	}
	return int64(u), true, nil
}

// statValue returns the value of key in a memory.stat file (0 if the file
// or the key is missing).
func statValue(fsys fs.FS, name, key string) (int64, error) {
	b, err := readSmall(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	for i, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 63)
		if err != nil {
			return 0, fmt.Errorf("sysmem: /%s: line %d: %q is not a byte count", name, i+1, truncate(v))
		}
		return int64(n), nil
	}
	return 0, nil
}

// memAvailable returns MemAvailable of proc/meminfo in bytes (0 if the
// file is missing or lacks it).
func memAvailable(fsys fs.FS) (int64, error) {
	const name = "proc/meminfo"
	b, err := readSmall(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	for i, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "MemAvailable:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("sysmem: /%s: line %d: %q is not a size in kB", name, i+1, truncate(line))
		}
		kb, err := strconv.ParseUint(f[0], 10, 53)
		if err != nil {
			return 0, fmt.Errorf("sysmem: /%s: line %d: %q is not a size in kB", name, i+1, truncate(line))
		}
		return int64(kb) << 10, nil
	}
	return 0, nil
}

// parseProcCgroup returns the process's cgroup in the v1 memory hierarchy
// and in the v2 hierarchy ("" where absent).
func parseProcCgroup(b []byte) (v1, v2 string, err error) {
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 || !strings.HasPrefix(f[2], "/") {
			return "", "", fmt.Errorf("sysmem: /proc/self/cgroup: line %d: %q is not id:controllers:path", i+1, truncate(line))
		}
		switch {
		case f[0] == "0" && f[1] == "":
			v2 = f[2]
		case hasWord(f[1], ",", "memory"):
			v1 = f[2]
		}
	}
	return v1, v2, nil
}

// parseMountinfo returns the mounts of the v1 memory hierarchy and of the
// v2 hierarchy.
func parseMountinfo(b []byte) (v1, v2 mount, err error) {
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 1 {
			return mount{}, mount{}, fmt.Errorf("sysmem: /proc/self/mountinfo: line %d: %q is not a mount", i+1, truncate(line))
		}
		m := mount{point: unescape(f[4]), root: unescape(f[3])}
		switch {
		case g[0] == "cgroup2" && v2.point == "":
			v2 = m
		case g[0] == "cgroup" && len(g) >= 3 && hasWord(g[2], ",", "memory") && v1.point == "":
			v1 = m
		}
	}
	return v1, v2, nil
}

// unescape undoes mountinfo's octal escapes of space, tab, newline and
// backslash.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

func hasWord(list, sep, w string) bool {
	for x := range strings.SplitSeq(list, sep) {
		if x == w {
			return true
		}
	}
	return false
}

// readSmall reads a file of at most maxFile bytes.
func readSmall(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("sysmem: /%s: %w", name, err)
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("sysmem: /%s: longer than %d bytes", name, maxFile)
	}
	return b, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
