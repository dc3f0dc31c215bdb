package tokenizer

import (
	"slices"
	"testing"
)

func TestInferTypesTellsAddedTokensFromMergedOnes(t *testing.T) {
	tokens := []string{"a", "b", "ab", "Ġ", "Ġa", "<|im_start|>", "<think>", "[PAD7]", "[PAD]", "<|x", "abab", ""}
	merges := []string{"a b", "Ġ a"}
	want := []int32{TypeNormal, TypeNormal, TypeNormal, TypeNormal, TypeNormal, TypeControl,
		TypeUserDefined, TypeUnused, TypeUserDefined, TypeUserDefined, TypeUserDefined, TypeNormal}
	if got := InferTypes(tokens, merges); !slices.Equal(got, want) {
		t.Errorf("types %v, want %v", got, want)
	}
}
