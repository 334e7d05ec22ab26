//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 elementwise helpers (see vec.go). Each processes 16 float32 per
// step and finishes with one masked step for the last n mod 16 elements.

// ROWSETUP loads the arguments of copyRows512 / addRows512: DI dst, SI src,
// DX rows, R8 full 16-wide chunks per row, K1 the mask of the last
// width mod 16 columns (empty if none), R9 and R10 the row strides in bytes.
#define ROWSETUP \
	MOVQ  dst+0(FP), DI;    \
	MOVQ  src+8(FP), SI;    \
	MOVQ  rows+16(FP), DX;  \
	MOVQ  width+24(FP), R8; \
	MOVQ  lddst+32(FP), R9; \
	MOVQ  ldsrc+40(FP), R10; \
	SHLQ  $2, R9;           \
	SHLQ  $2, R10;          \
	MOVQ  R8, CX;           \
	ANDQ  $15, CX;          \
	MOVQ  $1, R13;          \
	SHLQ  CX, R13;          \
	DECQ  R13;              \
	KMOVW R13, K1;          \
	SHRQ  $4, R8

// TAILMASK sets K1 to the low CX bits (CX in 1..15), using R13.
#define TAILMASK \
	MOVQ  $1, R13;  \
	SHLQ  CX, R13;  \
	DECQ  R13;      \
	KMOVW R13, K1

// func addBias512(dst, src *float32, n int, b float32)
TEXT ·addBias512(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS b+24(FP), Z1

ab_loop:
	CMPQ    CX, $16
	JLT     ab_tail
	VADDPS  (SI), Z1, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     ab_loop

ab_tail:
	TESTQ     CX, CX
	JZ        ab_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VADDPS    Z0, Z1, Z0
	VMOVUPS   Z0, K1, (DI)

ab_done:
	VZEROUPPER
	RET

// func addBiasReLU512(dst, src *float32, n int, b float32)
//
// max(0, v) with v as the second operand of VMAXPS: a NaN or a -0 passes
// through, as in the portable `if v < 0 { v = 0 }`.
TEXT ·addBiasReLU512(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS b+24(FP), Z1
	VPXORD       Z2, Z2, Z2

abr_loop:
	CMPQ    CX, $16
	JLT     abr_tail
	VADDPS  (SI), Z1, Z0
	VMAXPS  Z0, Z2, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     abr_loop

abr_tail:
	TESTQ     CX, CX
	JZ        abr_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VADDPS    Z0, Z1, Z0
	VMAXPS    Z0, Z2, Z0
	VMOVUPS   Z0, K1, (DI)

abr_done:
	VZEROUPPER
	RET

// REDUCE sums the 16 lanes of Z0 into X0 by the fixed tree of vec.go.
#define REDUCE \
	VEXTRACTF64X4 $1, Z0, Y1;  \
	VADDPS        Y1, Y0, Y0;  \
	VEXTRACTF128  $1, Y0, X1;  \
	VADDPS        X1, X0, X0;  \
	VPERMILPS     $0x0e, X0, X1; \
	VADDPS        X1, X0, X0;  \
	VMOVSHDUP     X0, X1;      \
	VADDSS        X1, X0, X0

// func reluMaskSum512(dz, y, dy *float32, n int) float32
TEXT ·reluMaskSum512(SB), NOSPLIT, $0-36
	MOVQ   dz+0(FP), DI
	MOVQ   y+8(FP), SI
	MOVQ   dy+16(FP), DX
	MOVQ   n+24(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z31, Z31, Z31

rms_loop:
	CMPQ      CX, $16
	JLT       rms_tail
	VMOVUPS   (SI), Z1
	VCMPPS    $0x1e, Z31, Z1, K2 // y > 0, false for NaN
	VMOVUPS.Z (DX), K2, Z2
	VMOVUPS   Z2, (DI)
	VADDPS    Z2, Z0, Z0
	ADDQ      $64, SI
	ADDQ      $64, DI
	ADDQ      $64, DX
	SUBQ      $16, CX
	JMP       rms_loop

rms_tail:
	TESTQ     CX, CX
	JZ        rms_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z1
	VCMPPS    $0x1e, Z31, Z1, K1, K2
	VMOVUPS.Z (DX), K2, Z2
	VMOVUPS   Z2, K1, (DI)
	VADDPS    Z2, Z0, Z0

rms_done:
	REDUCE
	MOVSS X0, ret+32(FP)
	VZEROUPPER
	RET

// func sum512(x *float32, n int) float32
TEXT ·sum512(SB), NOSPLIT, $0-20
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VPXORD Z0, Z0, Z0

s_loop:
	CMPQ   CX, $16
	JLT    s_tail
	VADDPS (SI), Z0, Z0
	ADDQ   $64, SI
	SUBQ   $16, CX
	JMP    s_loop

s_tail:
	TESTQ     CX, CX
	JZ        s_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z1
	VADDPS    Z1, Z0, Z0

s_done:
	REDUCE
	MOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func copyRows512(dst, src *float32, rows, width, lddst, ldsrc int)
TEXT ·copyRows512(SB), NOSPLIT, $0-48
	ROWSETUP
	TESTQ DX, DX
	JZ    cr_done

cr_row:
	MOVQ  DI, R11
	MOVQ  SI, R12
	MOVQ  R8, CX
	TESTQ CX, CX
	JZ    cr_tail

cr_chunk:
	VMOVUPS (R12), Z0
	VMOVUPS Z0, (R11)
	ADDQ    $64, R11
	ADDQ    $64, R12
	DECQ    CX
	JNZ     cr_chunk

cr_tail:
	// Masked-off lanes are neither read nor written (no faults).
	VMOVUPS.Z (R12), K1, Z0
	VMOVUPS   Z0, K1, (R11)
	ADDQ      R9, DI
	ADDQ      R10, SI
	DECQ      DX
	JNZ       cr_row

cr_done:
	VZEROUPPER
	RET

// func addRows512(dst, src *float32, rows, width, lddst, ldsrc int)
TEXT ·addRows512(SB), NOSPLIT, $0-48
	ROWSETUP
	TESTQ DX, DX
	JZ    ar_done

ar_row:
	MOVQ  DI, R11
	MOVQ  SI, R12
	MOVQ  R8, CX
	TESTQ CX, CX
	JZ    ar_tail

ar_chunk:
	VMOVUPS (R11), Z1
	VADDPS  (R12), Z1, Z1
	VMOVUPS Z1, (R11)
	ADDQ    $64, R11
	ADDQ    $64, R12
	DECQ    CX
	JNZ     ar_chunk

ar_tail:
	VMOVUPS.Z (R12), K1, Z0
	VMOVUPS.Z (R11), K1, Z1
	VADDPS    Z0, Z1, Z1
	VMOVUPS   Z1, K1, (R11)
	ADDQ      R9, DI
	ADDQ      R10, SI
	DECQ      DX
	JNZ       ar_row

ar_done:
	VZEROUPPER
	RET

// func dot512(x, y *float32, n int) float32
//
// Four accumulators over 64-value blocks, then 16-value steps into the
// first; products are rounded before the add (no FMA), as in dotGo.
TEXT ·dot512(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

dot_loop64:
	CMPQ    CX, $64
	JLT     dot_loop16
	VMOVUPS (SI), Z4
	VMULPS  (DI), Z4, Z4
	VADDPS  Z4, Z0, Z0
	VMOVUPS 64(SI), Z5
	VMULPS  64(DI), Z5, Z5
	VADDPS  Z5, Z1, Z1
	VMOVUPS 128(SI), Z6
	VMULPS  128(DI), Z6, Z6
	VADDPS  Z6, Z2, Z2
	VMOVUPS 192(SI), Z7
	VMULPS  192(DI), Z7, Z7
	VADDPS  Z7, Z3, Z3
	ADDQ    $256, SI
	ADDQ    $256, DI
	SUBQ    $64, CX
	JMP     dot_loop64

dot_loop16:
	CMPQ    CX, $16
	JLT     dot_tail
	VMOVUPS (SI), Z4
	VMULPS  (DI), Z4, Z4
	VADDPS  Z4, Z0, Z0
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     dot_loop16

dot_tail:
	TESTQ     CX, CX
	JZ        dot_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z4
	VMOVUPS.Z (DI), K1, Z5
	VMULPS    Z5, Z4, Z4
	VADDPS    Z4, Z0, Z0

dot_done:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	REDUCE
	MOVSS  X0, ret+24(FP)
	VZEROUPPER
	RET
