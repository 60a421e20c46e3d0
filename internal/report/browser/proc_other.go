//go:build !linux

package browser

import "github.com/chromedp/chromedp"

// platformOptions: chromedp's defaults.
var platformOptions []chromedp.ExecAllocatorOption
