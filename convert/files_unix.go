//go:build unix

package convert

import "golang.org/x/sys/unix"

// writable reports whether the user may write the file at path.
func writable(path string) bool { return unix.Access(path, unix.W_OK) == nil }
