package asm

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The arm64 assembly spells the instructions Go's assembler lacks as WORDs
// with the instruction's text in a comment, in one of two forms:
//
//	WORD $0x4e31d610 // fadd v16.4s, v16.4s, v17.4s   (or /* … */ inside a #define)
//	MACRO(R1, 0x6f9d00ca, 0x6f9d00eb) // = mla v10.4s, v6.4s, v29.s[0]; mla v11.4s, v7.4s, v29.s[0]
//
// where the second form gives the texts of the macro call's 0x…-words in
// order, separated by semicolons. arm64WordsTable (testdata/arm64_words.txt)
// lists every distinct instruction text with the word GNU as makes of it,
// so the words are checked on every machine, with or without an assembler.
//
// After adding or changing a WORD, regenerate the table (needs GNU as for
// aarch64, Debian's binutils-aarch64-linux-gnu) and review its diff:
//
//	go test ./ops/asm -run TestArm64Words -update-words
const arm64WordsTable = "testdata/arm64_words.txt"

// arm64WordsMarch enables every extension the WORDs use.
const arm64WordsMarch = "-march=armv8.2-a+dotprod+fp16+i8mm"

var updateWords = flag.Bool("update-words", false, "rewrite "+arm64WordsTable+" from the WORDs in *_arm64.[sh], assembled by aarch64-linux-gnu-as")

// wordRE matches a WORD-encoded instruction and the instruction text its
// comment gives.
var wordRE = regexp.MustCompile(`WORD\s+\$0x([0-9a-fA-F]{8})\s*;?\s*(?://\s*(.+?)\s*$|/\*\s*(.+?)\s*\*/)`)

// argWordsRE matches a macro call whose arguments include instruction
// words and whose comment, after "// =", gives their texts in order,
// separated by semicolons; hexWordRE finds those words.
var (
	argWordsRE = regexp.MustCompile(`^\s*[A-Z0-9_]+\((.*)\)\s*//\s*=\s*(.+?)\s*$`)
	hexWordRE  = regexp.MustCompile(`\b0x([0-9a-fA-F]{8})\b`)
	bareWordRE = regexp.MustCompile(`WORD\s+\$0x`)
)

// armWord is one WORD of the sources: where it is, its value and its text.
type armWord struct {
	where string
	code  uint32
	text  string
}

// normalizeInstruction gives an instruction text one spelling: lower case,
// single spaces, no space before a comma.
func normalizeInstruction(s string) string {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	return strings.ReplaceAll(s, " ,", ",")
}

// arm64SourceWords returns the WORDs of *_arm64.[sh] in dir. A literal
// WORD $0x… without an instruction text is an error: nothing could check it.
func arm64SourceWords(dir string) ([]armWord, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_arm64.[sh]"))
	if err != nil {
		return nil, err
	}
	var words []armWord
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(f)
		for i, line := range strings.Split(string(src), "\n") {
			if m := argWordsRE.FindStringSubmatch(line); m != nil {
				codes, texts := hexWordRE.FindAllStringSubmatch(m[1], -1), strings.Split(m[2], ";")
				if len(codes) != len(texts) {
					return nil, fmt.Errorf("%s:%d: %d words but %d instruction texts", name, i+1, len(codes), len(texts))
				}
				for j, c := range codes {
					code, _ := strconv.ParseUint(c[1], 16, 32)
					words = append(words, armWord{fmt.Sprintf("%s:%d word %d", name, i+1, j), uint32(code), normalizeInstruction(texts[j])})
				}
				continue
			}
			if m := wordRE.FindStringSubmatch(line); m != nil {
				code, _ := strconv.ParseUint(m[1], 16, 32)
				words = append(words, armWord{fmt.Sprintf("%s:%d", name, i+1), uint32(code), normalizeInstruction(m[2] + m[3])})
				continue
			}
			if bareWordRE.MatchString(line) {
				return nil, fmt.Errorf("%s:%d: WORD without its instruction's text in a comment", name, i+1)
			}
		}
	}
	return words, nil
}

// readArm64Words reads the table: one "0xWORD text" per line.
func readArm64Words(path string) (map[string]uint32, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	table := map[string]uint32{}
	for i, line := range strings.Split(string(src), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		hex, text, ok := strings.Cut(line, " ")
		code, err := strconv.ParseUint(strings.TrimPrefix(hex, "0x"), 16, 32)
		if !ok || err != nil || !strings.HasPrefix(hex, "0x") || normalizeInstruction(text) != text {
			return nil, fmt.Errorf("%s:%d: want \"0xWORD instruction\", got %q", path, i+1, line)
		}
		if _, dup := table[text]; dup {
			return nil, fmt.Errorf("%s:%d: %q listed twice", path, i+1, text)
		}
		table[text] = uint32(code)
	}
	return table, nil
}

// assembleArm64 returns GNU as's word for each text, or false when the
// assembler is not installed.
func assembleArm64(t *testing.T, texts []string) ([]uint32, bool) {
	t.Helper()
	as, err := exec.LookPath("aarch64-linux-gnu-as")
	if err != nil {
		return nil, false
	}
	objdump, err := exec.LookPath("aarch64-linux-gnu-objdump")
	if err != nil {
		return nil, false
	}
	dir := t.TempDir()
	in, obj := filepath.Join(dir, "w.s"), filepath.Join(dir, "w.o")
	if err := os.WriteFile(in, []byte(strings.Join(texts, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(as, arm64WordsMarch, "-o", obj, in).CombinedOutput(); err != nil {
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
	if len(codes) != len(texts) {
		t.Fatalf("assembled %d instructions from %d texts", len(codes), len(texts))
	}
	return codes, true
}

// TestArm64WordsMatchTheirInstructions checks every WORD of the arm64
// assembly against the table, and every table entry against the sources
// (no stale entries); with GNU as installed it also checks the table
// against the assembler. Runs on any GOARCH.
func TestArm64WordsMatchTheirInstructions(t *testing.T) {
	words, err := arm64SourceWords(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(words) < 50 {
		t.Fatalf("found only %d commented WORDs", len(words))
	}
	used := map[string]bool{}
	for _, w := range words {
		used[w.text] = true
	}
	texts := make([]string, 0, len(used))
	for text := range used {
		texts = append(texts, text)
	}
	slices.Sort(texts)

	if *updateWords {
		codes, ok := assembleArm64(t, texts)
		if !ok {
			t.Fatal("-update-words needs aarch64-linux-gnu-as and -objdump (Debian: binutils-aarch64-linux-gnu)")
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "# Each instruction a WORD in ops/asm/*_arm64.[sh] spells, with the word\n")
		fmt.Fprintf(&b, "# aarch64-linux-gnu-as %s makes of it.\n", arm64WordsMarch)
		fmt.Fprintf(&b, "# Regenerate: go test ./ops/asm -run TestArm64Words -update-words\n")
		for i, text := range texts {
			fmt.Fprintf(&b, "0x%08x %s\n", codes[i], text)
		}
		if err := os.WriteFile(arm64WordsTable, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d instructions", arm64WordsTable, len(texts))
	}

	table, err := readArm64Words(arm64WordsTable)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range words {
		want, ok := table[w.text]
		switch {
		case !ok:
			t.Errorf("%s: %q is not in %s (regenerate it: see encodings_test.go)", w.where, w.text, arm64WordsTable)
		case want != w.code:
			t.Errorf("%s: WORD $0x%08x, but %q is 0x%08x in %s", w.where, w.code, w.text, want, arm64WordsTable)
		}
	}
	for text := range table {
		if !used[text] {
			t.Errorf("%s: %q is used by no WORD (stale entry)", arm64WordsTable, text)
		}
	}
	t.Logf("%d WORDs, %d distinct instructions checked against %s", len(words), len(texts), arm64WordsTable)

	listed := make([]string, 0, len(table))
	for text := range table {
		listed = append(listed, text)
	}
	slices.Sort(listed)
	codes, ok := assembleArm64(t, listed)
	if !ok {
		t.Logf("aarch64-linux-gnu-as not installed: the table itself is not checked against an assembler")
		return
	}
	for i, code := range codes {
		if code != table[listed[i]] {
			t.Errorf("%s: %q is 0x%08x, but the assembler makes 0x%08x", arm64WordsTable, listed[i], table[listed[i]], code)
		}
	}
	t.Logf("%d table entries checked against aarch64-linux-gnu-as", len(listed))
}
