// Package daemon starts `driftwatch run` processes for the benchmarks that
// drive it against the real servers (bench/kafka, bench/scaleout), scrapes
// their /metrics, and reads what a process has used from /proc (its CPU
// time and resident memory), for driftwatch's processes and the servers'.
//
// It does not decide what a run measures or when it is done: the callers
// poll. Linux only (/proc).
package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopTimeout bounds a SIGTERMed process's shutdown before it is killed.
const stopTimeout = 30 * time.Second

// scrapeTimeout bounds one GET of /metrics.
const scrapeTimeout = 5 * time.Second

// Options describes one `driftwatch run` process.
type Options struct {
	Bin string // the driftwatch binary
	Dir string // an existing directory for its config and log
	// Config returns the YAML config given the address that http.listen
	// must have (host:port on loopback, free when Start picked it).
	Config func(listen string) string
	// CPU, when 0 or more, pins the process to that CPU (taskset -c CPU)
	// and sets GOMAXPROCS=1 in its environment; -1 leaves it unpinned.
	CPU int
	Env []string // added to the environment
}

// Daemon is a running `driftwatch run`. Its methods are safe to call from
// one goroutine at a time.
type Daemon struct {
	Pid int
	URL string // of /metrics

	cmd     *exec.Cmd
	logPath string
	logf    *os.File
	exited  chan struct{}
	waitErr error
}

// Start writes the config into o.Dir and starts the process, its output
// to o.Dir/run.log. It does not wait for the process to be ready.
func Start(o Options) (*Daemon, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(o.Dir, "driftwatch.yml")
	if err := os.WriteFile(cfgPath, []byte(o.Config(addr)), 0o644); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	logPath := filepath.Join(o.Dir, "run.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	args := []string{o.Bin, "run", "--config", cfgPath}
	env := append(os.Environ(), o.Env...)
	if o.CPU >= 0 {
		args = append([]string{"taskset", "-c", strconv.Itoa(o.CPU)}, args...)
		env = append(env, "GOMAXPROCS=1")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Env = logf, logf, env
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", strings.Join(args, " "), err)
	}
	d := &Daemon{Pid: cmd.Process.Pid, URL: "http://" + addr + "/metrics", cmd: cmd, logPath: logPath, logf: logf, exited: make(chan struct{})}
	go func() {
		d.waitErr = cmd.Wait()
		close(d.exited)
	}()
	return d, nil
}

// Exited returns an error saying how the process ended if it has, or nil
// while it runs.
func (d *Daemon) Exited() error {
	select {
	case <-d.exited:
		if d.waitErr == nil {
			return errors.New("exited with status 0")
		}
		return d.waitErr
	default:
		return nil
	}
}

// Stop sends SIGTERM and waits for the process to exit, killing it after
// 30 s; it returns the process's error when it exited non-zero on its own
// before. Calling it again is harmless.
func (d *Daemon) Stop() error {
	select {
	case <-d.exited:
	default:
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(stopTimeout):
			_ = d.cmd.Process.Kill()
			<-d.exited
			d.logf.Close()
			return fmt.Errorf("pid %d did not stop within %s of SIGTERM: killed", d.Pid, stopTimeout)
		}
	}
	d.logf.Close()
	return nil
}

// LogTail returns the last n bytes of the process's output.
func (d *Daemon) LogTail(n int) string {
	b, _ := os.ReadFile(d.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Scrape returns the samples of /metrics summed by metric name (the
// series of a labelled metric add up).
func (d *Daemon) Scrape() (map[string]float64, error) {
	cl := http.Client{Timeout: scrapeTimeout}
	resp, err := cl.Get(d.URL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", d.URL, resp.Status)
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		name := line[:sp]
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out, sc.Err()
}

// CPUSeconds is the user+system CPU time of process pid so far, in
// seconds, from /proc/PID/stat; 0 when it cannot be read.
func CPUSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

// RunqueueWaitSeconds is the time the threads of process pid have spent
// runnable but waiting for a CPU so far (the second field of
// /proc/PID/task/*/schedstat, summed over the threads alive now), in
// seconds; 0 when it cannot be read.
func RunqueueWaitSeconds(pid int) float64 {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil {
		return 0
	}
	var ns float64
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(data)); len(f) >= 2 {
			v, _ := strconv.ParseFloat(f[1], 64)
			ns += v
		}
	}
	return ns / 1e9
}

// MachineBusySeconds is the CPU time all the machine's CPUs have spent
// busy so far (user, nice, system, irq, softirq and steal of the "cpu"
// line of /proc/stat: everything but idle and iowait), in seconds, summed
// over the CPUs; 0 when it cannot be read.
func MachineBusySeconds() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy float64
	for i, s := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		v, _ := strconv.ParseFloat(s, 64)
		busy += v
	}
	return busy / 100 // USER_HZ
}

// RSSBytes is the resident set size of process pid (VmRSS in
// /proc/PID/status), in bytes; 0 when it cannot be read.
func RSSBytes(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// FreeAddr returns a loopback host:port that was free when asked.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
