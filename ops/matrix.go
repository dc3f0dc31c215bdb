package ops

import (
	"fmt"

	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/quant"
)

// Matrix is a row-major weight matrix read in place: Rows rows (output
// features, GGUF Dims[1]) of Cols values (input features, GGUF Dims[0]),
// each row Type.RowBytes(Cols) bytes.
type Matrix struct {
	Type quant.Type
	Data []byte
	Rows int
	Cols int
}

// Supported reports whether products with matrices of type t are
// implemented (t has an entry in the kernel table of package asm).
func Supported(t quant.Type) bool {
	_, ok := asm.TypeTraits(t)
	return ok
}

// RowBytes returns the size of one row in bytes.
func (m Matrix) RowBytes() int {
	n, _ := m.Type.RowBytes(m.Cols)
	return n
}

// Validate checks that the type is supported, rows are whole blocks and
// Data holds exactly Rows rows.
func (m Matrix) Validate() error {
	if !Supported(m.Type) {
		return fmt.Errorf("ops: matrix type %s not supported", m.Type)
	}
	if m.Rows <= 0 || m.Cols <= 0 {
		return fmt.Errorf("ops: matrix shape %d×%d not positive", m.Rows, m.Cols)
	}
	rb, err := m.Type.RowBytes(m.Cols)
	if err != nil {
		return fmt.Errorf("ops: matrix of %d columns: %w", m.Cols, err)
	}
	if len(m.Data) != rb*m.Rows {
		return fmt.Errorf("ops: %s matrix %d×%d needs %d bytes, has %d", m.Type, m.Rows, m.Cols, rb*m.Rows, len(m.Data))
	}
	return nil
}

// Row returns the bytes of row r.
func (m Matrix) Row(r int) []byte {
	rb := m.RowBytes()
	return m.Data[r*rb : (r+1)*rb]
}

// quantized reports whether products with m quantize their activations.
func (m Matrix) quantized() bool {
	tr, ok := asm.TypeTraits(m.Type)
	return ok && tr.Quantized()
}
