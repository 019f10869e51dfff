package vprint

import (
	"encoding/binary"
	"math"

	"github.com/x448/float16"
)

// Batch float16 conversion. x448/float16 is exact but handles every class
// of value in one function call per element; for the normal range, which
// holds nearly all features, plain bit arithmetic inlined in the loop gives
// identical results (tests compare every half, and all 2^32 floats were
// checked once) several times faster.

// PutHalves stores each src value as a little-endian float16 in dst, which
// holds 2*len(src) bytes, rounding to nearest even like float16.Fromfloat32.
func PutHalves(dst []byte, src []float32) {
	dst = dst[:2*len(src)]
	for i, v := range src {
		u := math.Float32bits(v)
		a := u &^ 0x80000000
		var h uint16
		// 2^-14 (smallest normal half) <= |v| < 65520 (rounds to infinity).
		if a >= 0x38800000 && a < 0x477ff000 {
			a += 0xfff + (a>>13)&1 // round to nearest even at bit 13
			h = uint16(u>>16)&0x8000 | uint16((a-0x38000000)>>13)
		} else {
			h = float16.Fromfloat32(v).Bits()
		}
		binary.LittleEndian.PutUint16(dst[2*i:], h)
	}
}

// GetHalves widens the little-endian float16 values in src, which holds
// 2*len(dst) bytes, into dst exactly like float16.Float16.Float32.
func GetHalves(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		h := uint16(src[2*i]) | uint16(src[2*i+1])<<8
		if e := h & 0x7c00; e == 0 || e == 0x7c00 { // zero, subnormal, Inf, NaN
			dst[i] = float16.Frombits(h).Float32()
			continue
		}
		dst[i] = math.Float32frombits(uint32(h&0x8000)<<16 | (uint32(h&0x7fff)<<13 + 0x38000000))
	}
}
