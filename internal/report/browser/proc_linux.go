package browser

import (
	"os/exec"
	"syscall"

	"github.com/chromedp/chromedp"
)

// platformOptions start the browser in a process group of its own, which
// its children share (so that a test can find them all), and have the
// kernel kill it if the thread that started it ends, as chromedp's default
// does.
var platformOptions = []chromedp.ExecAllocatorOption{
	chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}),
}
