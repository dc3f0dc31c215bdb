package convert

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/synth"
)

// presetGolden is a committed record of llama-quantize's output for a synth
// checkpoint (scripts/presets writes it): per preset, general.file_type,
// general.quantization_version and each tensor's type and sha256 prefix.
type presetGolden struct {
	spec     synth.Spec
	presets  []string
	fileType []uint64
	version  []uint64
	tensors  []string            // names, in llama-quantize's order
	entries  map[string][]string // name → per preset "TYPE:hash"
}

func readPresetGolden(path string) (*presetGolden, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	g := &presetGolden{entries: map[string][]string{}}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	uints := func(fields []string) ([]uint64, error) {
		var out []uint64
		for _, f := range fields {
			v, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, rest, _ := strings.Cut(line, " ")
		fields := strings.Fields(rest)
		switch key {
		case "spec":
			err = json.Unmarshal([]byte(rest), &g.spec)
		case "presets":
			g.presets = fields
		case "file_type":
			g.fileType, err = uints(fields)
		case "quantization_version":
			g.version, err = uints(fields)
		case "tensor":
			if len(fields) != len(g.presets)+1 {
				return nil, fmt.Errorf("%s: %q: %d entries for %d presets", path, line, len(fields)-1, len(g.presets))
			}
			g.tensors = append(g.tensors, fields[0])
			g.entries[fields[0]] = fields[1:]
		default:
			return nil, fmt.Errorf("%s: unknown line %q", path, line)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
	}
	if len(g.fileType) != len(g.presets) || len(g.version) != len(g.presets) || len(g.tensors) == 0 {
		return nil, fmt.Errorf("%s: incomplete golden", path)
	}
	return g, nil
}

// TestConvertPresetsMatchLlamaQuantize converts committed synth checkpoints
// to every preset and checks that each tensor's type and bytes (by sha256
// prefix) and the file type keys are those of llama-quantize's output of
// the same weights (from q3m's BF16 file with general.alignment 32),
// recorded by scripts/presets.
func TestConvertPresetsMatchLlamaQuantize(t *testing.T) {
	paths, err := filepath.Glob("testdata/presets/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no goldens (%v)", err)
	}
	for _, path := range paths {
		g, err := readPresetGolden(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		hf := filepath.Join(t.TempDir(), name)
		if err := synth.Write(hf, g.spec); err != nil {
			t.Fatal(err)
		}
		for i, preset := range g.presets {
			t.Run(name+"/"+preset, func(t *testing.T) {
				if testing.Short() && preset != "q4_k_m" && preset != "q8_0" {
					t.Skip("short: q4_k_m and q8_0 only")
				}
				out := filepath.Join(t.TempDir(), preset+".gguf")
				if err := Convert(context.Background(), hf, out, Options{Preset: preset, Threads: 2}); err != nil {
					t.Fatal(err)
				}
				f, err := format.Open(out)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				for key, want := range map[string]uint64{"general.file_type": g.fileType[i], "general.quantization_version": g.version[i]} {
					if got, _, err := f.Uint(key); err != nil || got != want {
						t.Errorf("%s = %d (%v), llama-quantize wrote %d", key, got, err, want)
					}
				}
				same := 0
				for _, tn := range g.tensors {
					want := g.entries[tn][i]
					ti, ok := f.Tensor(tn)
					if !ok {
						t.Errorf("%s missing", tn)
						continue
					}
					sum := sha256.Sum256(f.Data(ti))
					got := ti.Type.String() + ":" + hex.EncodeToString(sum[:])[:len(want)-strings.Index(want, ":")-1]
					if got != want {
						t.Errorf("%s: q3m %s, llama-quantize %s", tn, got, want)
						continue
					}
					same++
				}
				if len(f.Tensors) != len(g.tensors) {
					t.Errorf("%d tensors, llama-quantize wrote %d", len(f.Tensors), len(g.tensors))
				}
				t.Logf("%d/%d tensors identical to llama-quantize's", same, len(g.tensors))
			})
		}
	}
}
