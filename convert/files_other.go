//go:build !unix

package convert

// writable reports whether the user may write the file at path; without
// access(2), the permission bits checked by CheckOutput decide.
func writable(string) bool { return true }
