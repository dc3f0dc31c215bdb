package asm

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// wordRE matches a WORD-encoded instruction and the instruction text its
// comment gives.
var wordRE = regexp.MustCompile(`WORD\s+\$0x([0-9a-fA-F]{8})\s*;?\s*(?://\s*(.+?)\s*$|/\*\s*(.+?)\s*\*/)`)

// argWordsRE matches a macro call whose arguments include instruction
// words and whose comment, after "// =", gives their texts in order,
// separated by semicolons; hexWordRE finds those words.
var (
	argWordsRE = regexp.MustCompile(`^\s*[A-Z0-9_]+\((.*)\)\s*//\s*=\s*(.+?)\s*$`)
	hexWordRE  = regexp.MustCompile(`\b0x([0-9a-fA-F]{8})\b`)
)

// The arm64 assembly spells the instructions Go's assembler lacks as WORDs
// with the instruction in a comment; each word must be what an assembler
// makes of that text. Needs GNU as for aarch64 (binutils-aarch64-linux-gnu)
// and skips without it; runs on any GOARCH.
func TestArm64WordsMatchTheirInstructions(t *testing.T) {
	as, err := exec.LookPath("aarch64-linux-gnu-as")
	if err != nil {
		t.Skip("aarch64-linux-gnu-as not installed")
	}
	objdump, err := exec.LookPath("aarch64-linux-gnu-objdump")
	if err != nil {
		t.Skip("aarch64-linux-gnu-objdump not installed")
	}
	files, _ := filepath.Glob("*_arm64.[sh]")
	type word struct {
		where string
		code  uint32
		text  string
	}
	var words []word
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if m := argWordsRE.FindStringSubmatch(line); m != nil {
				codes, texts := hexWordRE.FindAllStringSubmatch(m[1], -1), strings.Split(m[2], ";")
				if len(codes) != len(texts) {
					t.Fatalf("%s:%d: %d words but %d instruction texts", f, i+1, len(codes), len(texts))
				}
				for j, c := range codes {
					code, _ := strconv.ParseUint(c[1], 16, 32)
					words = append(words, word{fmt.Sprintf("%s:%d word %d", f, i+1, j), uint32(code), strings.TrimSpace(texts[j])})
				}
				continue
			}
			m := wordRE.FindStringSubmatch(line)
			if m == nil || strings.Contains(line, "SABOTAGE") {
				continue
			}
			code, _ := strconv.ParseUint(m[1], 16, 32)
			text := m[2] + m[3]
			words = append(words, word{fmt.Sprintf("%s:%d", f, i+1), uint32(code), text})
		}
	}
	if len(words) < 50 {
		t.Fatalf("found only %d commented WORDs", len(words))
	}
	var src bytes.Buffer
	for _, w := range words {
		fmt.Fprintln(&src, w.text)
	}
	dir := t.TempDir()
	in, obj := filepath.Join(dir, "w.s"), filepath.Join(dir, "w.o")
	if err := os.WriteFile(in, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(as, "-march=armv8.2-a+dotprod+fp16+i8mm", "-o", obj, in).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", as, err, out)
	}
	out, err := exec.Command(objdump, "-d", obj).Output()
	if err != nil {
		t.Fatal(err)
	}
	var codes []uint32
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.HasSuffix(f[0], ":") && len(f[1]) == 8 {
			if c, err := strconv.ParseUint(f[1], 16, 32); err == nil {
				codes = append(codes, uint32(c))
			}
		}
	}
	if len(codes) != len(words) {
		t.Fatalf("assembled %d instructions from %d WORDs", len(codes), len(words))
	}
	for i, w := range words {
		if codes[i] != w.code {
			t.Errorf("%s: WORD $%#08x, but %q assembles to %#08x", w.where, w.code, w.text, codes[i])
		}
	}
	t.Logf("%d WORDs checked", len(words))
}
