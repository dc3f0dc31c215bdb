package asm

// AttnScores sets s[r·cols+j] = Σ_d q[r·hd+d]·kt[d·cols+j] for r < rows and
// j < cols: the scores of rows query heads of hd values against cols keys
// held transposed (kt holds hd rows of cols values, one column per key).
// Each score sums the products of each attnChunk values of d in order, each
// product rounded to float32 before its addition (no fused multiply-add),
// and then adds those chunk sums in order to zero: shorter chains than one
// sum over d, and a score's bits do not depend on rows, cols or which other
// scores are computed with it.
// It panics if a slice is too short.
func AttnScores(s, q, kt []float32, rows, cols, hd int) {
	if rows <= 0 || cols <= 0 || hd <= 0 {
		return
	}
	_, _, _ = s[rows*cols-1], q[rows*hd-1], kt[hd*cols-1]
	n := attnScoresArch(s, q, kt, rows, cols, hd)
	attnScoresGeneric(s[n*cols:], q[n*hd:], kt, rows-n, cols, hd)
}

// attnChunk is how many products of a score one chain of additions sums.
const attnChunk = 32

// attnScoresGeneric is AttnScores in Go, the oracle for the assembly. It
// runs the keys of a score row side by side (up to attnGenericCols at a
// time), each key's chain of additions on its own, so the loop over keys
// carries no dependency; every score's operations and their order are
// those of AttnScores' definition.
func attnScoresGeneric(s, q, kt []float32, rows, cols, hd int) {
	var acc [attnGenericCols]float32
	for r := range rows {
		qr, sr := q[r*hd:(r+1)*hd], s[r*cols:(r+1)*cols]
		for j0 := 0; j0 < cols; j0 += attnGenericCols {
			n := min(attnGenericCols, cols-j0)
			out := sr[j0 : j0+n]
			clear(out)
			for c := 0; c < hd; c += attnChunk {
				a := acc[:n]
				clear(a)
				for d := c; d < min(c+attnChunk, hd); d++ {
					qd, k := qr[d], kt[d*cols+j0:d*cols+j0+n]
					for j, x := range k {
						a[j] += float32(qd * x)
					}
				}
				for j, x := range a {
					out[j] += x
				}
			}
		}
	}
}

// attnGenericCols is how many keys attnScoresGeneric runs side by side.
const attnGenericCols = 64

// AttnValues accumulates one tile of attention values for rows query
// heads: for each row r, acc[r·hd+i] = acc[r·hd+i]·alpha[r] and then, for
// j = 0, 1, … keys-1 in order, acc[r·hd+i] += p[r·ldp+j]·v[j·ldv+i]. Every
// product is rounded to float32 before its addition (no fused
// multiply-add), so a row's bits do not depend on rows or on the other
// rows. It panics if a slice is too short.
func AttnValues(acc, alpha, p []float32, ldp int, v []float32, ldv, rows, keys, hd int) {
	if rows <= 0 || hd <= 0 {
		return
	}
	keys = max(keys, 0)
	_, _ = acc[rows*hd-1], alpha[rows-1]
	if keys > 0 {
		_, _ = p[(rows-1)*ldp+keys-1], v[(keys-1)*ldv+hd-1]
	}
	n := attnValuesArch(acc, alpha, p, ldp, v, ldv, rows, keys, hd)
	if n < rows {
		attnValuesGeneric(acc[n*hd:], alpha[n:], p[n*ldp:], ldp, v, ldv, rows-n, keys, hd)
	}
}

// AttnValuesF16 is AttnValues over value rows of fp16 values: row j is
// the hd values at v[2·j·ldv:], each read as F16ToF32 converts it, so the
// result is AttnValues' on the converted rows, bit for bit. buf is scratch
// for keys·hd values, used where no kernel reads fp16 directly. It panics if
// a slice is too short or ldv is less than hd.
func AttnValuesF16(acc, alpha, p []float32, ldp int, v []byte, ldv, rows, keys, hd int, buf []float32) {
	if rows <= 0 || hd <= 0 {
		return
	}
	if ldv < hd {
		panic("asm: AttnValuesF16 with value rows shorter than a head")
	}
	keys = max(keys, 0)
	_, _ = acc[rows*hd-1], alpha[rows-1]
	if keys > 0 {
		_, _ = p[(rows-1)*ldp+keys-1], v[2*((keys-1)*ldv+hd)-1]
	}
	n := attnValuesF16Arch(acc, alpha, p, ldp, v, ldv, rows, keys, hd)
	if n == rows {
		return
	}
	buf = buf[:keys*hd]
	for j := range keys {
		F16ToF32(buf[j*hd:(j+1)*hd], v[2*j*ldv:])
	}
	AttnValues(acc[n*hd:], alpha[n:], p[n*ldp:], ldp, buf, hd, rows-n, keys, hd)
}

// attnValuesGeneric is AttnValues in Go, the oracle for the assembly.
func attnValuesGeneric(acc, alpha, p []float32, ldp int, v []float32, ldv, rows, keys, hd int) {
	for r := range rows {
		a := acc[r*hd : (r+1)*hd]
		al := alpha[r]
		for i := range a {
			a[i] *= al
		}
		for j := range keys {
			pj, vj := p[r*ldp+j], v[j*ldv:j*ldv+hd]
			for i, x := range vj {
				a[i] += float32(pj * x)
			}
		}
	}
}
