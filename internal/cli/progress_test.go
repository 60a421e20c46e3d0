package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// signalWriter is a buffer that signals each write.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return n, err
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestEveryInALog: off a terminal, each progress report is a line of its
// own, and nothing is left half-written when it stops.
func TestEveryInALog(t *testing.T) {
	w := &signalWriter{wrote: make(chan struct{}, 1)}
	n := 0
	stop := every(w, time.Millisecond, func() string { n++; return "step " + strconv.Itoa(n) })
	<-w.wrote // the first report
	stop()
	out := w.String()
	if !strings.HasPrefix(out, "step 1\n") || !strings.HasSuffix(out, "\n") || strings.Contains(out, "\r") {
		t.Errorf("progress in a log: %q", out)
	}
}

// openPTY opens a pseudo-terminal pair: what the program writes to tty
// can be read from ptm.
func openPTY(t *testing.T) (ptm, tty *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pseudo-terminal number: %v", err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return ptm, tty
}

// TestProgressOnATerminal: on a terminal, baseline's progress is one line
// rewritten in place (how much of the file was read, of its size) and
// cleared when the work ends; a logger with format auto writes text there
// and JSON elsewhere.
func TestProgressOnATerminal(t *testing.T) {
	ptm, tty := openPTY(t)
	if !isTerminal(tty) || isTerminal(&bytes.Buffer{}) {
		t.Fatal("isTerminal does not tell a terminal from a buffer")
	}
	path := t.TempDir() + "/reference.jsonl"
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	read.Store(1 << 20)
	chunks := make(chan []byte, 64)
	go func() { // what reaches the terminal
		for {
			buf := make([]byte, 4096)
			k, err := ptm.Read(buf)
			if k > 0 {
				chunks <- buf[:k]
			}
			if err != nil {
				close(chunks)
				return
			}
		}
	}()
	var all []byte
	until := func(done func() bool) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for !done() {
			select {
			case c, ok := <-chunks:
				if !ok {
					t.Fatalf("the terminal closed after %q", all)
				}
				all = append(all, c...)
			case <-deadline:
				t.Fatalf("the terminal shows %q after 30 s", all)
			}
		}
	}
	stop := readProgress(tty, path, &read, time.Millisecond)
	until(func() bool { return bytes.Contains(all, []byte("MiB/s")) }) // a first report
	stop()
	until(func() bool {
		return bytes.HasSuffix(all, []byte("\r\033[K")) && bytes.Count(all, []byte("\r\033[K")) >= 2
	})
	out := string(all)
	if !strings.HasPrefix(out, "\r\033[Kbaseline: read 1.0 MiB of reference.jsonl (25% of 4.0 MiB)") || strings.Contains(out, "\n") {
		t.Errorf("the terminal shows %q: want the progress line rewritten in place, then cleared", out)
	}

	var js bytes.Buffer
	newLogger(&js, "info", "auto").Info("hello", "k", 1)
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil || m["msg"] != "hello" {
		t.Errorf("format auto off a terminal wrote %q, want JSON", js.String())
	}
	newLogger(tty, "info", "auto").Info("hello", "k", 1)
	all = nil
	until(func() bool { return bytes.Contains(all, []byte("\n")) })
	if s := string(all); !strings.Contains(s, "msg=hello") {
		t.Errorf("format auto on a terminal wrote %q, want text", s)
	}
}
