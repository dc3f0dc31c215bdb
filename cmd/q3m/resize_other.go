//go:build !unix

package main

// watchResize does nothing where there is no SIGWINCH: the width read at
// the start is kept.
func watchResize(width func() int, resize func(int)) (stop func()) { return func() {} }
