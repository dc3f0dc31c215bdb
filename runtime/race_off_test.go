//go:build !race

package runtime_test

// raceEnabled is whether the race detector is on: tests that only repeat
// single-goroutine numerics over many inputs run a subset then.
const raceEnabled = false
