package main

import "testing"

func TestParseSizeReadsUnits(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"", 0}, {"0", 0}, {"1500000", 1500000}, {"512MiB", 512 << 20}, {"8GiB", 8 << 30},
		{"2G", 2 << 30}, {"1.5 GiB", 3 << 29}, {"3gb", 3e9}, {"64k", 64 << 10}, {"100b", 100},
	} {
		if got, err := parseSize(c.in); err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"-1G", "lots", "1XB", "9e30"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}
