package classroom

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// memcg is the memory cgroups of one class run: a folder chatgrade-<pid>
// in a memory cgroup hierarchy (version 1 or 2), with one cgroup per
// student. Only the class run's goroutine that starts a student creates
// and removes that student's cgroup.
type memcg struct {
	dir string // the run's folder
	v2  bool
}

// newMemcg sets up the run's memory cgroups, or says why it cannot.
func newMemcg() (*memcg, error) {
	var tried []string
	for _, c := range cgroupCandidates() {
		m := &memcg{dir: filepath.Join(c.base, fmt.Sprintf("chatgrade-%d", os.Getpid())), v2: c.v2}
		err := m.init()
		if err == nil {
			return m, nil
		}
		tried = append(tried, err.Error())
	}
	if len(tried) == 0 {
		return nil, errors.New("no memory cgroup hierarchy is mounted")
	}
	return nil, errors.New(strings.Join(tried, "; "))
}

// candidate is a cgroup folder under which the run's folder may go.
type candidate struct {
	base string
	v2   bool
}

// cgroupCandidates lists where the run's cgroups may go: under the
// cgroup this process is in, then at the top of the hierarchy, for the
// memory controller of version 1 and the unified hierarchy of version 2.
func cgroupCandidates() []candidate {
	own := make(map[string]string) // "memory" or "" (v2) -> this process's cgroup path
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 {
				continue
			}
			if parts[1] == "" {
				own[""] = parts[2]
			} else if slices.Contains(strings.Split(parts[1], ","), "memory") {
				own["memory"] = parts[2]
			}
		}
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []candidate
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, after := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(after) < 3 {
			continue
		}
		root, mount := fields[3], fields[4]
		var key string
		switch {
		case after[0] == "cgroup2":
			key = ""
		case after[0] == "cgroup" && slices.Contains(strings.Split(after[2], ","), "memory"):
			key = "memory"
		default:
			continue
		}
		v2 := key == ""
		if path, ok := own[key]; ok {
			if rel, ok := strings.CutPrefix(path, root); ok {
				out = append(out, candidate{filepath.Join(mount, rel), v2})
			}
		}
		out = append(out, candidate{mount, v2})
	}
	// Version 1 first: where both exist, the unified hierarchy rarely
	// has the memory controller.
	slices.SortStableFunc(out, func(a, b candidate) int {
		switch {
		case a.v2 == b.v2:
			return 0
		case !a.v2:
			return -1
		}
		return 1
	})
	return slices.CompactFunc(out, func(a, b candidate) bool { return a == b })
}

// init creates the run's folder and checks that a student's cgroup with
// a memory limit can be made in it.
func (m *memcg) init() error {
	parent := filepath.Dir(m.dir)
	if m.v2 {
		if err := enableMemory(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(m.dir, 0o755); err != nil {
		return fmt.Errorf("cgroup %s: %w", m.dir, err)
	}
	if m.v2 {
		if err := enableMemory(m.dir); err != nil {
			m.close()
			return err
		}
	}
	probe, err := m.student("probe", 1<<30)
	if err != nil {
		m.close()
		return err
	}
	m.remove(probe)
	return nil
}

// enableMemory makes the memory controller available to dir's children
// (cgroup version 2).
func enableMemory(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", dir, err)
	}
	if slices.Contains(strings.Fields(string(b)), "memory") {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+memory"), 0); err != nil {
		return fmt.Errorf("cgroup %s: enable the memory controller: %w", dir, err)
	}
	return nil
}

// student creates the cgroup of one student, with its memory limit (and
// no swap), and returns its folder.
func (m *memcg) student(slug string, limit int64) (string, error) {
	dir := filepath.Join(m.dir, slug)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("cgroup %s: %w", dir, err)
	}
	v := []byte(strconv.FormatInt(limit, 10))
	limitFile, swapFile := "memory.limit_in_bytes", "memory.memsw.limit_in_bytes"
	if m.v2 {
		limitFile, swapFile = "memory.max", "memory.swap.max"
	}
	if err := os.WriteFile(filepath.Join(dir, limitFile), v, 0); err != nil {
		m.remove(dir)
		return "", fmt.Errorf("cgroup %s: set the memory limit: %w", dir, err)
	}
	if m.v2 {
		v = []byte("0")
	}
	// Without swap accounting there is no such file: the limit is on
	// memory alone, which is what matters.
	_ = os.WriteFile(filepath.Join(dir, swapFile), v, 0)
	return dir, nil
}

// oomKills returns how many processes the kernel killed in the cgroup at
// dir for going over its memory limit.
func oomKills(dir string) int {
	name := "memory.oom_control"
	if _, err := os.Stat(filepath.Join(dir, "memory.events")); err == nil {
		name = "memory.events"
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// remove kills whatever still runs in the cgroup at dir and removes it.
func (m *memcg) remove(dir string) {
	for range 50 {
		if err := syscall.Rmdir(dir); err == nil || errors.Is(err, syscall.ENOENT) {
			return
		}
		if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		// The killed processes take a moment to leave the cgroup.
		time.Sleep(20 * time.Millisecond)
	}
}

// close removes the run's folder, once every student's cgroup is gone.
func (m *memcg) close() {
	if m == nil {
		return
	}
	if entries, err := os.ReadDir(m.dir); err == nil {
		for _, e := range entries {
			if e.IsDir() {
				m.remove(filepath.Join(m.dir, e.Name()))
			}
		}
	}
	_ = syscall.Rmdir(m.dir)
}

// describe says what the limit is enforced by.
func (m *memcg) describe() string {
	if m.v2 {
		return "cgroup v2"
	}
	return "cgroup v1"
}
